using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// SnapLoader.Runtime keeps serving net8.0 functions. This machine has only .NET 10, so the function carries .NET 8
/// itself: a self-contained linux-x64 publish with its own Main over Amazon.Lambda.RuntimeSupport (a custom runtime,
/// what a net8.0 function becomes once the dotnet8 runtime stops taking updates), started by the managed runtime's
/// bootstrap as an executable handler, with SnapStart.
/// </summary>
[TestClass]
public sealed class Net8FunctionTests
{
    private const string Code = """
        using System.Runtime.InteropServices;
        using Amazon.Lambda.RuntimeSupport;

        namespace Fixture;

        public static class Function
        {
            [DllImport("onnxruntime")]
            private static extern nint OrtGetApiBase();

            public static Task Main() => LambdaBootstrapBuilder.Create((Stream input) =>
            {
                var exists = File.Exists(Path.Combine(Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT")!, "libonnxruntime.so"));
                Stream output = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($".NET {Environment.Version.Major}, api {OrtGetApiBase() != 0}, exists {exists}"));
                return Task.FromResult(output);
            }).Build().RunAsync();
        }
        """;

    [TestMethod]
    public void ASelfContainedNet8FunctionLoadsItsLibraryFromMemoryOnDotNet8()
    {
        var project = FunctionProject.Create("""
            <PackageReference Include="Amazon.Lambda.RuntimeSupport" Version="2.1.2" />
            <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
            """,
            """
            <OutputType>Exe</OutputType>
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SelfContained>true</SelfContained>
            <!-- AWSSDK.Core 4.1's System.IO.Hashing 11 warns on net8.0 and runs there (README, known limitations). -->
            <SuppressTfmSupportBuildWarnings>true</SuppressTfmSupportBuildWarnings>
            """, Code, targetFramework: "net8.0");
        project.Publish([]).EnsureSuccess("dotnet publish");
        var publish = project.PublishFolder("linux-x64", "net8.0");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")), "the library moved");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "libcoreclr.so")), "the .NET 8 runtime the host loads first stays");
        var eventFile = project.WriteEvent("{}");

        var run = LambdaRun.Start(publish, "Function", eventFile, project.ArchiveFolder("linux-x64", "net8.0"));

        Assert.AreEqual(".NET 8, api True, exists True", run.Response, run.Output);
        Assert.IsTrue(run.SnapStartHooksRan, run.Output);
        CollectionAssert.Contains(run.MemfdMappings.ToList(), "libonnxruntime.so");
    }
}
