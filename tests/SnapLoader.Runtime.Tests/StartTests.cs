using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// <see cref="SnapLoaderRuntime.Start"/> as the bootstrap calls it, in a child process with the preload shim, on an
/// archive of libonnxruntime.so and ResNet18.onnx written by the build's own writer. The files are never on disk
/// under the task root: whatever reads them there reads the memory files.
/// </summary>
[TestClass]
public sealed class StartTests
{
    private static readonly Lazy<string> s_probe = new(BuildProbe);
    private static readonly Lazy<string> s_shim = new(BuildShim);

    /// <summary>StartProbe.dll, built once per run; other tests start it under a seccomp filter or in a mount namespace.</summary>
    internal static string ProbePath => s_probe.Value;

    /// <summary>libsnaploader_preload.so, built once per run, for other tests' children.</summary>
    internal static string ShimPath => s_shim.Value;

    [TestMethod]
    public void StartLoadsVerifiesRegistersAndRestores()
    {
        var (manifest, env, taskRoot) = Prepare(corruptHash: false);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        Assert.IsTrue(findings["preloaded"]!.GetValue<bool>());
        foreach (var (path, hash) in findings["hashes"]!.AsObject())
        {
            Assert.AreEqual(ExpectedHash(path), hash!.GetValue<string>(), $"{path} read at its original path");
            Assert.IsFalse(File.Exists(Path.Combine(taskRoot, path)), "the file must not exist on disk");
        }
        Assert.IsTrue(findings["ortApiBase"]!.GetValue<bool>(), "[DllImport(\"onnxruntime\")] reached the library");
        Assert.IsTrue(findings["inference"]!.GetValue<int>() > 0, "ONNX Runtime's managed API ran ResNet18 from its original path");
        Assert.IsTrue(findings["mapsMemfd"]!.GetValue<bool>(), "/proc/self/maps shows the library mapped from its memfd");
        Assert.IsTrue(findings["linksAfterRestore"]!.GetValue<bool>(), "the after-restore hook recreated the links");
        Assert.AreEqual(2, findings["descriptors"]!.GetValue<int>());
        Assert.IsTrue(findings["manualRegistered"]!.GetValue<bool>(), "CreateSymlinks registered a manual file's original path");
        Assert.AreEqual(RuntimeErrorCodes.ShimRegistrationFailed, findings["manualClash"]!.GetValue<string>(), "a manual file cannot take a path Start registered");
        Assert.IsTrue(findings["manualEarlierKept"]!.GetValue<bool>(), "the failed call took back only its own paths");
        StringAssert.Contains(result.Output, "SnapLoader INFO: ready: 2 files");
    }

    [TestMethod]
    public void LogLinesFollowLambdasJsonFormatWhenAskedTo()
    {
        var (manifest, env, _) = Prepare(corruptHash: false);
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON";

        var result = RunProbe(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var records = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith('{') && l.Contains("\"logger\":\"SnapLoader\"", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l)!)
            .ToList();
        Assert.IsTrue(records.Count >= 4, result.Output);
        Assert.IsTrue(records.All(r => r["level"] is not null && r["timestamp"] is not null && r["message"] is not null));
        Assert.IsTrue(records.Any(r => r["message"]!.GetValue<string>().StartsWith("ready", StringComparison.Ordinal) && r["ms"] is not null));
        Assert.IsFalse(result.Output.Contains("SnapLoader INFO:", StringComparison.Ordinal), "no plain-text lines in JSON mode");

        // One record per stage, in order, each with its bytes and the time it was busy.
        var stages = records.Select(r => r["message"]!.GetValue<string>().Split(':')[0]).ToList();
        CollectionAssert.IsSubsetOf(new[] { "download", "decode", "verify", "write", "register", "load", "ready" }, stages, result.Output);
        var total = new FileInfo(TestPaths.OnnxRuntimeLibrary()).Length + new FileInfo(TestPaths.ResNet18Model).Length;
        JsonNode Stage(string name) => records.First(r => r["message"]!.GetValue<string>().StartsWith(name + ":", StringComparison.Ordinal));
        Assert.AreEqual(total, Stage("verify")["bytes"]!.GetValue<long>(), "every byte was hashed once");
        Assert.AreEqual(total, Stage("write")["bytes"]!.GetValue<long>());
        var downloaded = Stage("download")["bytes"]!.GetValue<long>();
        Assert.IsTrue(downloaded > 0 && downloaded < total, $"the compressed bytes were read, once: {downloaded:N0}");
        Assert.IsTrue(Stage("decode")["bytes"]!.GetValue<long>() > downloaded, "zstd entries decode to more than was read");
        foreach (var stage in new[] { "download", "decode", "verify", "write" })
        {
            var busy = Stage(stage)["busyMs"]!.GetValue<long>();
            Assert.IsTrue(busy >= 0 && busy <= Stage(stage)["ms"]!.GetValue<long>() * (Environment.ProcessorCount * 2 + 1), $"{stage}: {busy} ms busy");
        }
    }

    [TestMethod]
    public void AHashMismatchFailsWithNothingLeftOpen()
    {
        var (manifest, env, _) = Prepare(corruptHash: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        StringAssert.StartsWith(findings["errorCode"]!.GetValue<string>(), "SNAP1");
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "ResNet18.onnx");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed again");
    }

    [TestMethod]
    public void ALibraryThatCannotLoadFailsOnlyTheCodeThatOpensIt()
    {
        // Libraries load when used: the init goes through, the other files answer, and the broken one fails its user
        // with SnapLoader's code and the loader's reason, by path (through the shim) and by P/Invoke name (the resolver).
        var (manifest, env, _) = Prepare(corruptHash: false, brokenLibrary: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        Assert.IsTrue(findings["ortApiBase"]!.GetValue<bool>(), "the other library loads when P/Invoke asks for it");
        StringAssert.Contains(findings["brokenByPath"]!.GetValue<string>(), "libbroken.so", "the loader refuses it by its own path");
        var byName = findings["brokenByName"]!.GetValue<string>();
        StringAssert.Contains(byName, RuntimeErrorCodes.LibraryLoadFailed);
        StringAssert.Contains(byName, "libbroken.so");
        StringAssert.Contains(result.Output, "load: 0 native libraries at init, 2 when first opened");
    }

    [TestMethod]
    public void ALibraryAskedToLoadAtInitThatFailsTakesBackEveryRegistration()
    {
        // Everything verifies and is registered; then the dynamic loader refuses the library the user asked to load
        // at init (it is not an ELF file).
        var (manifest, env, _) = Prepare(corruptHash: false, brokenLibrary: true, brokenAtInit: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.LibraryLoadFailed, findings["errorCode"]!.GetValue<string>(), result.Output);
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "libbroken.so");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "the runtime's memory files and the shim's duplicates are all released");
        Assert.AreEqual(0, findings["devNullAdded"]!.GetValue<int>(), "the shim's duplicates are closed, not left on /dev/null, and so is its /dev/null");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers any more");
    }

    [TestMethod]
    public void IdenticalFilesShareOneMemoryFileAtEveryPathAndAfterRestore()
    {
        var (manifest, env, taskRoot) = Prepare(corruptHash: false, identicalCopy: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        var hashes = findings["hashes"]!.AsObject();
        Assert.AreEqual(3, hashes.Count);
        Assert.AreEqual(Sha256(TestPaths.ResNet18Model), hashes[CopyPath]!.GetValue<string>(), "the copy reads the model's bytes at its own original path");
        Assert.IsFalse(File.Exists(Path.Combine(taskRoot, CopyPath)), "the copy must not exist on disk");
        var fds = findings["fds"]!.AsObject();
        Assert.AreEqual(fds["models/ResNet18.onnx"]!.GetValue<int>(), fds[CopyPath]!.GetValue<int>(), "both paths are one memory file");
        Assert.AreNotEqual(fds["libonnxruntime.so"]!.GetValue<int>(), fds[CopyPath]!.GetValue<int>());
        Assert.AreEqual(2, findings["memfdsOfFiles"]!.GetValue<int>(), "one memory file per archive entry");
        Assert.IsTrue(findings["linksAfterRestore"]!.GetValue<bool>(), "the links of both paths came back after restore");
        Assert.IsTrue(findings["inference"]!.GetValue<int>() > 0);
        StringAssert.Contains(result.Output, "SnapLoader INFO: ready: 3 files");
        StringAssert.Contains(result.Output, "write: 2 sealed memory files for 3 files (identical files share one)");
    }

    [TestMethod]
    public void ACopyWithAnotherHashFailsTheStartWithNothingLeftOpenOrRegistered()
    {
        var (manifest, env, _) = Prepare(corruptHash: false, identicalCopy: true, corruptCopyHash: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.HashMismatch, findings["errorCode"]!.GetValue<string>());
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), $"'{CopyPath}', stored as the entry 'models/ResNet18.onnx'");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed again");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers");
    }

    [TestMethod]
    public void AFailureAfterIdenticalFilesWereRegisteredReleasesTheSharedMemoryFileAtEveryPath()
    {
        // Both paths of the shared memory file are registered (the shim holds a duplicate for each) and linked when the
        // library asked for at init fails: every registration and the one memory file go.
        var (manifest, env, _) = Prepare(corruptHash: false, brokenLibrary: true, brokenAtInit: true, identicalCopy: true);

        var result = RunProbe(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.LibraryLoadFailed, findings["errorCode"]!.GetValue<string>(), result.Output);
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "the runtime's memory files and the shim's duplicates are all released");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers any more");
    }

    private const string CopyPath = "models/copy/ResNet18.onnx";

    private static string ExpectedHash(string relativePath) => relativePath.EndsWith(".onnx", StringComparison.Ordinal)
        ? Sha256(TestPaths.ResNet18Model)
        : Sha256(TestPaths.OnnxRuntimeLibrary());

    /// <summary>
    /// An archive and manifest of libonnxruntime.so and models/ResNet18.onnx; with <paramref name="identicalCopy"/>, also
    /// models/copy/ResNet18.onnx, which the writer stores once under the first model's entry and the manifest names so.
    /// </summary>
    internal static (string Manifest, Dictionary<string, string?> Env, string TaskRoot) Prepare(bool corruptHash, bool brokenLibrary = false, bool brokenAtInit = false,
        bool identicalCopy = false, bool corruptCopyHash = false)
    {
        var folder = TestPaths.NewTempFolder("start");
        var taskRoot = Directory.CreateDirectory(Path.Combine(folder, "task")).FullName;
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
        var archive = ArchiveWriter.Write(Path.Combine(folder, "archive.zip"), inputs, ArchiveCompression.Zstd, 3, 2, null, CancellationToken.None);
        var entryOf = archive.EntryOfEachInput();
        var files = new JsonArray(inputs.Select(i => (i.EntryName, Entry: entryOf[i.EntryName])).Select(f => (JsonNode)new JsonObject
        {
            ["path"] = f.EntryName,
            ["size"] = f.Entry.Size,
            ["sha256"] = (corruptHash && f.EntryName == "models/ResNet18.onnx") || (corruptCopyHash && f.EntryName == CopyPath) ? new string('a', 64) : f.Entry.Sha256,
            ["kind"] = f.EntryName.EndsWith(".so", StringComparison.Ordinal) ? "NativeLibrary" : "Data",
            ["soname"] = f.EntryName == "libonnxruntime.so" ? "libonnxruntime.so.1" : null,
            ["loadAtInit"] = brokenAtInit && f.EntryName == "libbroken.so",
            ["entry"] = f.Entry.EntryName == f.EntryName ? null : f.Entry.EntryName,
        }).ToArray());
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, new JsonObject
        {
            ["archive"] = new JsonObject { ["fileName"] = "archive.zip", ["sha256"] = archive.Sha256, ["length"] = archive.Length },
            ["files"] = files,
        }.ToJsonString());
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = s_shim.Value,
            ["LAMBDA_TASK_ROOT"] = taskRoot,
            ["SNAPLOADER_ARCHIVE_DIR"] = folder,
            ["SNAPLOADER_TARGET_DIR"] = Path.Combine(folder, "links"),
        };
        return (manifest, env, taskRoot);
    }

    private static ProcessResult RunProbe(string manifest, Dictionary<string, string?> env) =>
        ProcessRunner.Run("dotnet", [s_probe.Value, manifest], Path.GetDirectoryName(manifest)!, env);

    internal static JsonNode LastJson(string output) =>
        JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private static string BuildProbe()
    {
        var project = Path.Combine(TestPaths.RepositoryRoot, "tests", "SnapLoader.Runtime.Tests", "StartProbe", "StartProbe.csproj");
        var output = Path.Combine(AppContext.BaseDirectory, "start-probe");
        ProcessRunner.Run("dotnet", ["build", project, "-o", output, "-nologo", "-v:q"], TestPaths.RepositoryRoot).EnsureSuccess("dotnet build StartProbe");
        return Path.Combine(output, "StartProbe.dll");
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
