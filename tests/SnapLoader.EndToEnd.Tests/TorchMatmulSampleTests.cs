using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// samples/TorchMatmul: 466 MB of LibTorch, impossible as a zip deployment, published with SnapLoader and run the
/// Lambda way under the real runtime, a typed handler (ILambdaContext, Amazon.Lambda.Serialization.SystemTextJson). The
/// libraries come back from memory files and answer [DllImport] calls.
/// </summary>
[TestClass]
public sealed class TorchMatmulSampleTests
{
    [TestMethod]
    public void TheLibTorchSampleRunsFromMemoryAfterTheSplit()
    {
        var project = FunctionProject.FromSample("TorchMatmul");

        project.Publish([]).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        var moved = new[] { "libtorch_cpu.so", "libc10.so", "libgomp-98b21ff3.so.1" };
        foreach (var name in moved)
        {
            Assert.IsFalse(File.Exists(Path.Combine(publish, name)), $"{name} left the deployment");
        }
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libtorch_python.so")), "the sample leaves the Python bindings out");
        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var deployment = LambdaRun.DeploymentSize(publish);
        var movedBytes = ZipListing.Read(archive).Entries.Sum(e => e.Size);
        Assert.IsTrue(deployment < LambdaRun.DeploymentLimit, $"{deployment:N0} bytes remain");
        Assert.IsTrue(deployment + movedBytes > LambdaRun.DeploymentLimit, "without SnapLoader the function would not fit");

        var run = LambdaRun.Start(publish, "TorchMatmul::TorchMatmul.Function::Handler",
            Path.Combine(project.Directory, "event.json"), project.ArchiveFolder("linux-x64"));

        var response = JsonNode.Parse(run.Response)!;
        Assert.AreEqual("[[58,64],[139,154]]", response["c"]!.ToJsonString(), "sgemm_ of libtorch_cpu.so multiplied the event's matrices");
        StringAssert.StartsWith(response["mkl"]!.GetValue<string>(), "Intel(R) oneAPI Math Kernel Library");
        Assert.IsTrue(response["torchThreads"]!.GetValue<int>() >= 1, "at::get_num_threads() answered");
        CollectionAssert.IsSubsetOf(moved, run.MemfdMappings.ToArray(), "every moved library is mapped from its memory file");
        Assert.IsTrue(run.SnapStartHooksRan, run.Output);
        Assert.IsFalse(response["createdDuringInvoke"]!.GetValue<bool>(), "the warm-up ran at init, before the snapshot: " + run.Response);
        Assert.AreEqual(response["c"]!.ToJsonString(), JsonNode.Parse(run.Responses[1])!["c"]!.ToJsonString());
        StringAssert.Contains(run.Output, "load: 0 native libraries at init, 3 when first opened");
    }
}
