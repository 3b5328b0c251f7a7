using Amazon.S3.Model;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>Publishes with a bucket, against s3rver on 127.0.0.1.</summary>
[TestClass]
public sealed class S3PublishTests
{
    [TestMethod]
    public async Task PublishUploadsOnceAndASecondPublishWithNothingChangedUploadsNothing()
    {
        await using var server = await S3rverServer.StartAsync("artifacts");
        var project = FunctionProject.Create("""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""",
            $"""
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SnapLoaderBucket>artifacts</SnapLoaderBucket>
            <SnapLoaderKeyPrefix>functions/onnx/</SnapLoaderKeyPrefix>
            <SnapLoaderServiceUrl>{server.ServiceUrl}</SnapLoaderServiceUrl>
            """);
        var credentials = server.AwsVariables();

        var first = project.Publish(["--self-contained", "false"], credentials).EnsureSuccess("first publish");

        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var key = "functions/onnx/" + Path.GetFileName(archive);
        using var client = server.CreateClient();
        var uploaded = await client.GetObjectMetadataAsync("artifacts", key);
        Assert.AreEqual(new FileInfo(archive).Length, uploaded.ContentLength);
        StringAssert.Contains(first.Output, $"s3://artifacts/{key}");

        var assembly = Path.Combine(project.PublishFolder("linux-x64"), "Function.dll");
        var literals = AssemblyInspection.StringLiterals(assembly);
        CollectionAssert.Contains(literals.ToList(), "artifacts");
        CollectionAssert.Contains(literals.ToList(), key);
        // The function as Lambda would run it: the archive comes from the bucket at init, nothing from a local folder.
        var eventFile = project.WriteEvent("""{"hello": "s3"}""");
        var run = LambdaRun.Start(project.PublishFolder("linux-x64"), FunctionProject.Handler, eventFile, archives: null,
            server.AwsVariables(server.ServiceUrl));
        Assert.AreEqual("""{"hello": "s3"}""", run.Response);
        StringAssert.Contains(run.Output, $"from s3://artifacts/{key}");
        // The function never calls ONNX Runtime, so the library is in its memory file, not loaded (it loads on use).
        CollectionAssert.Contains(run.MemfdDescriptors.ToList(), "libonnxruntime.so");
        Assert.IsTrue((await server.SettledRequestsAsync()).Any(r => r.StartsWith($"GET /artifacts/{key} 206", StringComparison.Ordinal)), "ranged GETs of the archive reached s3rver");

        var compiledAt = File.GetLastWriteTimeUtc(Path.Combine(project.IntermediateFolder("linux-x64"), "Function.dll"));

        var second = project.Publish(["--self-contained", "false"], credentials).EnsureSuccess("second publish");

        var again = await client.GetObjectMetadataAsync("artifacts", key);
        Assert.AreEqual(uploaded.LastModified, again.LastModified, "the object must not be written again");
        Assert.AreEqual(uploaded.ETag, again.ETag);
        StringAssert.Contains(second.Output, "is up to date", "the archive must not be packed again");
        Assert.AreEqual(compiledAt, File.GetLastWriteTimeUtc(Path.Combine(project.IntermediateFolder("linux-x64"), "Function.dll")),
            "nothing changed: the function must not be compiled again");
        var objects = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "artifacts" });
        Assert.AreEqual(1, objects.S3Objects.Count);
    }

    [TestMethod]
    public async Task AMissingBucketFailsThePublishWithItsCode()
    {
        await using var server = await S3rverServer.StartAsync();
        var project = FunctionProject.Create("""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""",
            $"""
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SnapLoaderBucket>no-such-bucket</SnapLoaderBucket>
            <SnapLoaderServiceUrl>{server.ServiceUrl}</SnapLoaderServiceUrl>
            """);

        var result = project.Publish(["--self-contained", "false"], server.AwsVariables());

        Assert.AreNotEqual(0, result.ExitCode);
        StringAssert.Contains(result.Output, "SNAP0030");
        StringAssert.Contains(result.Output, "no-such-bucket");
    }
}
