using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// A published function run the way Lambda runs it (tools/lambda-run.sh): the slimmed output read-only at /var/task in
/// a private mount namespace, started through the exec wrapper, the archive loaded at init into memory files.
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
                var exists = File.Exists("/var/task/libonnxruntime.so");
                return new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"ort {version}, exists {exists}"));
            }
        }
        """;

    [TestMethod]
    public void ThePublishedFunctionLoadsItsLibraryFromMemoryAndSurvivesASnapStartCycle()
    {
        var project = FunctionProject.Create("""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""",
            "<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", OnnxFunction);
        project.Publish(["--runtime", "linux-x64", "--self-contained", "false", "/p:GenerateRuntimeConfigurationFiles=true"]).EnsureSuccess("dotnet publish");
        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")));
        var eventFile = Path.Combine(project.Directory, "event.json");
        File.WriteAllText(eventFile, "{}");

        var run = ProcessRunner.Run("bash",
            [Path.Combine(TestPaths.RepositoryRoot, "tools", "lambda-run.sh"), publish, "Function::Fixture.Function::Handler", eventFile, project.ArchiveFolder("linux-x64")],
            project.Directory);

        Assert.AreEqual(0, run.ExitCode, run.Output);
        var result = JsonNode.Parse(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
        Assert.AreEqual("ort 1.31.1, exists True", result["response"]!.GetValue<string>(), "the moved library answers, and its original path exists for the function");
        Assert.AreEqual(result["response"]!.GetValue<string>(), result["responseAfterRestore"]!.GetValue<string>());
        Assert.IsTrue(result["snapStartHooks"]!.GetValue<bool>());
        CollectionAssert.Contains(result["memfdMappings"]!.AsArray().Select(m => m!.GetValue<string>()).ToList(), "libonnxruntime.so",
            "/proc/self/maps shows the library mapped from its memory file");
        StringAssert.Contains(run.Output, "shim=True");
    }
}
