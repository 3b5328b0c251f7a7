using System.Text.Json.Nodes;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The child process of the tests of <see cref="SnapLoaderRuntime.Start"/>: StartProbe (StartProbe/Program.cs), run
/// with the preload shim on an archive and manifest written for it, as a function's init runs the bootstrap. It
/// prints its findings, or the error's code and message, as one JSON object (<see cref="ProbeProjects.LastJson"/>).
/// The probe and the shim are built once per run.
/// </summary>
internal static class StartProbe
{
    /// <summary>The second path of the model in <see cref="PrepareOnnx"/>'s archive with an identical copy.</summary>
    public const string CopyPath = "models/copy/ResNet18.onnx";

    /// <summary>What the probe's script exits with when the kernel does not let it mount.</summary>
    private const int NotPermitted = 77;

    private static readonly Lazy<string> s_probe = new(() => ProbeProjects.Build("StartProbe", "start-probe"));
    private static readonly Lazy<string> s_shim = new(BuildShim);

    /// <summary>StartProbe.dll.</summary>
    public static string ProbePath => s_probe.Value;

    /// <summary>libsnaploader_preload.so.</summary>
    public static string ShimPath => s_shim.Value;

    /// <summary>
    /// An archive and manifest of libonnxruntime.so and models/ResNet18.onnx in a new folder; with
    /// <paramref name="identicalCopy"/>, also <see cref="CopyPath"/>, which the writer stores once under the first
    /// model's entry and the manifest names so; with <paramref name="brokenLibrary"/>, libbroken.so, which is no ELF
    /// file, loaded at init with <paramref name="brokenAtInit"/>.
    /// </summary>
    public static (string Manifest, Dictionary<string, string?> Env, string TaskRoot) PrepareOnnx(bool corruptHash = false, bool brokenLibrary = false,
        bool brokenAtInit = false, bool identicalCopy = false, bool corruptCopyHash = false)
    {
        var folder = TestPaths.NewTempFolder("start");
        var inputs = new List<ArchiveInput>
        {
            new("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary()),
            new("models/ResNet18.onnx", TestPaths.ResNet18Model),
        };
        if (brokenLibrary)
        {
            var broken = Path.Combine(folder, "libbroken.so");
            File.WriteAllText(broken, "not an ELF file\n");
            inputs.Add(new ArchiveInput("libbroken.so", broken));
        }
        if (identicalCopy)
        {
            inputs.Add(new ArchiveInput(CopyPath, TestPaths.ResNet18Model));
        }
        return Prepare(folder, inputs, adjust: file =>
        {
            var path = file["path"]!.GetValue<string>();
            if ((corruptHash && path == "models/ResNet18.onnx") || (corruptCopyHash && path == CopyPath))
            {
                file["sha256"] = new string('a', 64);
            }
            if (path == "libonnxruntime.so")
            {
                file["soname"] = "libonnxruntime.so.1";
            }
            file["loadAtInit"] = brokenAtInit && path == "libbroken.so";
        });
    }

    /// <summary>
    /// Writes an archive of <paramref name="inputs"/> (zstd, as the build packs) and the probe's manifest into
    /// <paramref name="folder"/>, with the task root beside them, and returns the environment the probe runs with:
    /// the shim preloaded and the folders, and nothing this process was given of Lambda's memory size.
    /// </summary>
    /// <param name="startOnly">The probe only starts SnapLoader, without the checks that need the ONNX files.</param>
    /// <param name="adjust">Changes a file's record of the manifest: a wrong hash, a SONAME, loading at init.</param>
    public static (string Manifest, Dictionary<string, string?> Env, string TaskRoot) Prepare(string folder, IReadOnlyList<ArchiveInput> inputs,
        bool startOnly = false, Action<JsonObject>? adjust = null)
    {
        Directory.CreateDirectory(folder);
        var taskRoot = Directory.CreateDirectory(Path.Combine(folder, "task")).FullName;
        var archive = ArchiveWriter.Write(Path.Combine(folder, "archive.zip"), inputs, ArchiveCompression.Zstd, 3, 2, null, CancellationToken.None);
        var entryOf = archive.EntryOfEachInput();
        var files = new JsonArray(inputs.Select(i =>
        {
            var entry = entryOf[i.EntryName];
            var file = new JsonObject
            {
                ["path"] = i.EntryName,
                ["size"] = entry.Size,
                ["sha256"] = entry.Sha256,
                ["kind"] = i.EntryName.EndsWith(".so", StringComparison.Ordinal) ? "NativeLibrary" : "Data",
                ["soname"] = null,
                ["entry"] = entry.EntryName == i.EntryName ? null : entry.EntryName,
            };
            adjust?.Invoke(file);
            return (JsonNode)file;
        }).ToArray());
        var manifest = Path.Combine(folder, "manifest.json");
        var document = new JsonObject
        {
            ["archive"] = new JsonObject { ["fileName"] = "archive.zip", ["sha256"] = archive.Sha256, ["length"] = archive.Length },
            ["files"] = files,
        };
        if (startOnly)
        {
            document["startOnly"] = true;
        }
        File.WriteAllText(manifest, document.ToJsonString());
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = ShimPath,
            ["LAMBDA_TASK_ROOT"] = taskRoot,
            ["SNAPLOADER_ARCHIVE_DIR"] = folder,
            ["SNAPLOADER_TARGET_DIR"] = Path.Combine(folder, "links"),
            // Other tests set it for this process; the child gets only what the test asks for.
            [MemoryLimit.LambdaMemoryVariable] = null,
        };
        return (manifest, env, taskRoot);
    }

    /// <summary>The command that runs the probe (<paramref name="probe"/>, a copy of it, if given) on <paramref name="manifest"/>.</summary>
    public static string[] Command(string manifest, string? probe = null) => ["dotnet", probe ?? ProbePath, manifest];

    /// <summary>
    /// Runs the probe on <paramref name="manifest"/>, in the manifest's folder, behind <paramref name="wrapper"/> (a
    /// command that runs the rest of its arguments, such as prlimit) if given.
    /// </summary>
    public static ProcessResult Run(string manifest, Dictionary<string, string?> env, IEnumerable<string>? wrapper = null, TimeSpan? timeout = null)
    {
        string[] command = [.. wrapper ?? [], .. Command(manifest)];
        return ProcessRunner.Run(command[0], command[1..], Path.GetDirectoryName(manifest)!, env, timeout);
    }

    /// <summary>
    /// Runs <paramref name="command"/> through <c>sh -c</c> <paramref name="script"/> (given
    /// <paramref name="scriptArguments"/>, then the command) in a mount namespace of its own, so that what the script
    /// mounts is seen by the command only. The test is inconclusive where the namespace or the mount is not permitted:
    /// the script exits 77 when its mount fails.
    /// </summary>
    public static ProcessResult RunWithOwnMounts(string script, IEnumerable<string> scriptArguments, IEnumerable<string> command, string workingDirectory,
        Dictionary<string, string?> env)
    {
        // Root mounts in a new mount namespace; anyone else needs a user namespace in which they are root.
        string[] unshare = Environment.UserName == "root" ? ["--mount", "--propagation", "private"] : ["--user", "--map-root-user", "--mount"];
        if (ProcessRunner.Run("unshare", [.. unshare, "true"], workingDirectory).ExitCode != 0)
        {
            Assert.Inconclusive("unshare is not permitted here, so no tmpfs can be mounted for the test.");
        }
        var result = ProcessRunner.Run("unshare", [.. unshare, "sh", "-c", script, "sh", .. scriptArguments, .. command], workingDirectory, env, TimeSpan.FromMinutes(2));
        if (result.ExitCode == NotPermitted)
        {
            Assert.Inconclusive($"Mounting a tmpfs is not permitted here:\n{result.Output}");
        }
        return result;
    }

    private static string BuildShim()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "start-shim");
        ProcessRunner.Run("bash", [Path.Combine(TestPaths.RepositoryRoot, "native", "build.sh"), "linux-x64", output], TestPaths.RepositoryRoot,
            new Dictionary<string, string?> { ["SNAPLOADER_NATIVE_BUILD_DIR"] = Path.Combine(AppContext.BaseDirectory, "start-shim-build") })
            .EnsureSuccess("native/build.sh linux-x64");
        return Path.Combine(output, "libsnaploader_preload.so");
    }
}
