using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// TorchSharp-cpu 0.107.0 publishes to about 526 MB for linux-x64 (libtorch_cpu.so alone is 461 MB): impossible as a
/// zip deployment (262,144,000 bytes unzipped) until SnapLoader moves the libraries out.
/// </summary>
[TestClass]
public sealed class TorchSharpPublishTests
{
    private const long LambdaLimit = 262_144_000;

    [TestMethod]
    public void TheRemainingDeploymentFitsLambdasLimit()
    {
        var project = FunctionProject.Create("""<PackageReference Include="TorchSharp-cpu" Version="0.107.0" />""");

        var result = project.Publish(["--runtime", "linux-x64", "--self-contained", "false"]).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        var remaining = Directory.EnumerateFiles(publish, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.IsTrue(remaining < LambdaLimit, $"the deployment is still {remaining:N0} bytes:\n{result.Output}");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libtorch_cpu.so")));

        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var moved = ZipListing.Read(archive).Entries;
        var movedBytes = moved.Sum(e => e.Size);
        Assert.IsTrue(remaining + movedBytes > LambdaLimit, "without SnapLoader this function would not fit");
        CollectionAssert.IsSubsetOf(new[] { "libtorch_cpu.so", "libc10.so" }, moved.Select(e => e.Name).ToArray());
        Assert.IsTrue(moved.ToList().FindIndex(e => e.Name == "libc10.so") < moved.ToList().FindIndex(e => e.Name == "libtorch_cpu.so"),
            "the archive holds the libraries in load order");
    }
}
