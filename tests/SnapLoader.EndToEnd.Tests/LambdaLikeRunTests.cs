using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// A published function run the way Lambda runs it (tools/lambda-run.sh): the real runtime client, the slimmed output
/// read-only at /var/task in a private mount namespace, started through the exec wrapper, the archive loaded at init
/// into memory files, a SnapStart cycle before the invocations.
/// </summary>
[TestClass]
public sealed class LambdaLikeRunTests
{

    private const string OnnxFunction = """
        using System.Runtime.InteropServices;

        namespace Fixture;

        public class Function
        {
            [DllImport("onnxruntime")]
            private static extern nint OrtGetApiBase();

            // ORT's API base: GetApi, then GetVersionString.
            public Stream Handler(Stream input)
            {
                var getVersion = Marshal.ReadIntPtr(OrtGetApiBase(), IntPtr.Size);
                string version;
                unsafe { version = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)getVersion)())!; }
                var root = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT")!;
                var exists = File.Exists(Path.Combine(root, "libonnxruntime.so"));
                bool readOnly;
                try
                {
                    File.WriteAllText(Path.Combine(root, "written-by-the-function.txt"), "x");
                    readOnly = false;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    readOnly = true;
                }
                return new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"ort {version}, exists {exists}, read-only {readOnly}"));
            }
        }
        """;

    /// <summary>One ONNX Runtime function, published once for the tests of this class and of <see cref="ManagedRuntimeTests"/>.</summary>
    internal static readonly Lazy<(FunctionProject Project, string Publish, string Event)> Published = new(() =>
    {
        var project = FunctionProject.Create("""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""",
            "<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", OnnxFunction);
        // Amazon.Lambda.Tools' own arguments to dotnet publish on Linux, and SnapLoader's own Lambda-ready zip.
        project.Publish(["--runtime", "linux-x64", "--self-contained", "false", "/p:GenerateRuntimeConfigurationFiles=true",
            "-p:SnapLoaderDeploymentZip=deploy/function.zip"]).EnsureSuccess("dotnet publish");
        var eventFile = project.WriteEvent("{}");
        return (project, project.PublishFolder("linux-x64"), eventFile);
    });

    [TestMethod]
    public void ThePublishedFunctionLoadsItsLibraryFromMemoryAndSurvivesASnapStartCycle()
    {
        var (project, publish, eventFile) = Published.Value;
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")));

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"));

        Assert.AreEqual("ort 1.31.1, exists True, read-only True", run.Response,
            "the moved library answers, its original path exists for the function, and the task root is read-only");
        Assert.AreEqual(run.Response, run.Responses[1]);
        Assert.IsTrue(run.SnapStartHooksRan, run.Output);
        CollectionAssert.Contains(run.MemfdMappings.ToList(), "libonnxruntime.so", "/proc/self/maps shows the library mapped from its memory file");
        StringAssert.Contains(run.Output, "shim=True");
    }

    [TestMethod]
    public void WithoutAMountNamespaceTheTaskRootStillCannotBeWritten()
    {
        var (project, publish, eventFile) = Published.Value;

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"),
            new Dictionary<string, string?> { ["SNAPLOADER_RUN_NO_NAMESPACE"] = "1" });

        StringAssert.Contains(run.Output, "no mount namespace here");
        Assert.AreEqual("ort 1.31.1, exists True, read-only True", run.Response);
        Assert.IsFalse(File.Exists(Path.Combine(publish, "written-by-the-function.txt")));
        Assert.IsTrue((File.GetUnixFileMode(publish) & UnixFileMode.UserWrite) != 0, "the folder is writable again after the run");
    }

    [TestMethod]
    public void TheLambdaToolsZipUnzippedElsewhereStillRuns()
    {
        // Amazon.Lambda.Tools zips the publish folder with the zip program on Linux, which keeps Unix modes; Lambda
        // unpacks it into /var/task. The exec wrapper must still be executable there.
        var (project, publish, eventFile) = Published.Value;
        var zip = Path.Combine(project.Directory, "function.zip");
        File.Delete(zip);
        ProcessRunner.Run("zip", ["-q", "-r", "-X", zip, "."], publish).EnsureSuccess("zip");
        var unpacked = Path.Combine(project.Directory, "unzipped");
        ProcessRunner.Run("unzip", ["-q", "-o", zip, "-d", unpacked], project.Directory).EnsureSuccess("unzip");
        Assert.IsTrue((File.GetUnixFileMode(Path.Combine(unpacked, "snaploader-exec-wrapper")) & UnixFileMode.UserExecute) != 0);

        var run = LambdaRun.Start(unpacked, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"));

        Assert.AreEqual("ort 1.31.1, exists True, read-only True", run.Response);
        StringAssert.Contains(run.Output, "shim=True");
    }

    [TestMethod]
    public void SnapLoaderDeploymentZipUnpacksToARunnableFunction()
    {
        var (project, publish, eventFile) = Published.Value;
        var zip = Path.Combine(project.Directory, "deploy", "function.zip");
        Assert.IsTrue(File.Exists(zip), "SnapLoaderDeploymentZip is relative to the project folder");
        var entries = ZipListing.Read(zip).Entries.Select(e => e.Name).ToList();
        CollectionAssert.AreEquivalent(Directory.EnumerateFiles(publish, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(publish, f)).ToList(), entries,
            "exactly the publish folder");
        var unpacked = Path.Combine(project.Directory, "from-deployment-zip");
        ProcessRunner.Run("unzip", ["-q", "-o", zip, "-d", unpacked], project.Directory).EnsureSuccess("unzip");

        var run = LambdaRun.Start(unpacked, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"));

        Assert.AreEqual("ort 1.31.1, exists True, read-only True", run.Response);
        StringAssert.Contains(run.Output, "shim=True");
    }
}
