using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.S3;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>Real `dotnet publish` runs whose upload meets a fault, against s3rver on 127.0.0.1.</summary>
[TestClass]
public sealed partial class S3PublishFaultTests
{
    // Stored, so the archive is as large as the file: eight parts of 8 MiB.
    private const int ModelBytes = 64 * 1000 * 1000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task ServerKilledDuringThePublishUpload_FailsWithItsCodeAndTheUploadToAbort_AndTheNextPublishUploads()
    {
        await using var server = await S3rverServer.StartAsync("artifacts");
        // Parts after the first wait in the proxy until s3rver is dead, so the kill lands in the middle of the upload
        // however fast the machine uploads and however late the publish's output arrives.
        var holding = 1;
        var partHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverDead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var proxy = FaultProxy.Start(server.ServiceUrl, new FaultRule
        {
            Method = "PUT",
            When = r => Volatile.Read(ref holding) == 1 && LaterPart().IsMatch(r.Target),
            Fault = Fault.HoldUntil(_ =>
            {
                partHeld.TrySetResult();
                return serverDead.Task;
            }),
        });
        var project = FunctionProject.Create(
            """
            <None Include="model.bin" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="model.bin" />
            """,
            $"""
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SnapLoaderCompression>Stored</SnapLoaderCompression>
            <SnapLoaderBucket>artifacts</SnapLoaderBucket>
            <SnapLoaderServiceUrl>{proxy.ServiceUrl}</SnapLoaderServiceUrl>
            """);
        File.WriteAllBytes(Path.Combine(project.Directory, "model.bin"), RandomNumberGenerator.GetBytes(ModelBytes));
        var credentials = server.AwsVariables();

        var killer = Task.Run(async () =>
        {
            await partHeld.Task;
            await server.KillAsync();
            serverDead.TrySetResult();
        });

        var failed = project.Publish(["--self-contained", "false"], credentials);
        Volatile.Write(ref holding, 0);

        Assert.IsTrue(partHeld.Task.IsCompleted, "the upload sent no second part:\n" + failed.Output);
        await killer.WaitAsync(TimeSpan.FromSeconds(30), TestContext.CancellationToken);
        TestContext.WriteLine(string.Join("\n", failed.Output.Split('\n').Where(l => l.Contains("error SNAP", StringComparison.Ordinal)).Distinct()));
        Assert.AreNotEqual(0, failed.ExitCode, failed.Output);
        var archive = Directory.GetFiles(Path.Combine(project.IntermediateFolder("linux-x64"), "snaploader"), "*.zip").Single();
        var key = "snaploader/" + Path.GetFileName(archive);
        var uploadId = UploadId().Match(failed.Output) is { Success: true } match ? match.Groups[1].Value : null;
        Assert.IsNotNull(uploadId, failed.Output);
        // The proxy accepts the connection and then loses it, as a server dying mid-request does: the upload fails (SNAP0034).
        StringAssert.Contains(failed.Output, "error SNAP0034");
        StringAssert.Contains(failed.Output, $"s3://artifacts/{key}");
        Assert.IsFalse(failed.Output.Contains("SnapLoader: Uploaded s3://", StringComparison.Ordinal), failed.Output);
        StringAssert.Contains(failed.Output, $"aws s3api abort-multipart-upload --bucket artifacts --key {key} --upload-id {uploadId}");

        await server.RestartAsync();
        using var client = server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync("artifacts", key, TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);

        var next = project.Publish(["--self-contained", "false"], credentials).EnsureSuccess("the publish after the restart");

        StringAssert.Contains(next.Output, $"Uploaded s3://artifacts/{key}");
        var sha256 = Path.GetFileNameWithoutExtension(archive);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive))));
        Assert.AreEqual(sha256, await server.Sha256OfObjectAsync("artifacts", key, TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task TwoPublishesOfTheProjectAtOnce_BothSucceedAndLeaveTheCompleteArchiveOnDiskAndInS3()
    {
        await using var server = await S3rverServer.StartAsync("artifacts");
        // S3 never shows a partly written object; s3rver answers a HEAD that comes while it writes one with
        // what it has so far, which the uploader takes for another object (SNAP0036). Holding each upload
        // until s3rver has answered both publishes' HEADs gives S3's view: neither finds the object.
        var headsToWaitFor = 0;
        await using var proxy = FaultProxy.Start(server.ServiceUrl, new FaultRule
        {
            When = r => r.Method is "PUT" or "POST",
            Fault = Fault.HoldUntil(_ =>
                server.WaitForRequestsAsync(l => l.StartsWith("HEAD /artifacts/", StringComparison.Ordinal), Volatile.Read(ref headsToWaitFor), TimeSpan.FromSeconds(60))),
        });
        var project = FunctionProject.Create(
            """
            <None Include="model.bin" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="model.bin" />
            """,
            $"""
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SnapLoaderCompression>Deflate</SnapLoaderCompression>
            <SnapLoaderCompressionLevel>9</SnapLoaderCompressionLevel>
            <SnapLoaderBucket>artifacts</SnapLoaderBucket>
            <SnapLoaderServiceUrl>{proxy.ServiceUrl}</SnapLoaderServiceUrl>
            """);
        // Half compressible, so that packing takes about a second: long enough for both publishes to find
        // no archive and pack at the same time, instead of the second finding the first's.
        var model = RandomNumberGenerator.GetBytes(24 * 1000 * 1000);
        for (var i = 0; i < model.Length; i++)
        {
            model[i] &= 0x0f;
        }
        File.WriteAllBytes(Path.Combine(project.Directory, "model.bin"), model);
        var credentials = server.AwsVariables();
        // A first publish restores and compiles, which two builds of one project cannot do at once (MSBuild's
        // own limit). Then the archive and the object go, so that both publishes pack and upload again.
        project.Publish(["--self-contained", "false"], credentials).EnsureSuccess("the first publish");
        var intermediate = Path.Combine(project.IntermediateFolder("linux-x64"), "snaploader");
        var key = "snaploader/" + Path.GetFileName(Directory.GetFiles(intermediate, "*.zip").Single());
        Directory.Delete(intermediate, recursive: true);
        using var client = server.CreateClient();
        await client.DeleteObjectAsync("artifacts", key, TestContext.CancellationToken);

        // The HEAD of the first publish, then one of each of the two.
        Volatile.Write(ref headsToWaitFor, 3);
        var publishes = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            Task.Run(() => project.Publish(["--self-contained", "false", "--no-restore"], credentials), TestContext.CancellationToken)));

        foreach (var publish in publishes)
        {
            publish.EnsureSuccess("a publish beside another");
            StringAssert.Contains(publish.Output, "SnapLoader: Packed 1 file(s)");
            StringAssert.Contains(publish.Output, $"SnapLoader: Uploaded s3://artifacts/{key}");
        }
        var archive = Directory.GetFiles(intermediate, "*.zip").Single();
        Assert.AreEqual(key, "snaploader/" + Path.GetFileName(archive));
        var sha256 = Path.GetFileNameWithoutExtension(archive);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive))));
        CollectionAssert.AreEquivalent(new[] { Path.GetFileName(archive), "archive.stamp.json" }, Directory.GetFileSystemEntries(intermediate).Select(Path.GetFileName).ToArray());
        Assert.AreEqual(sha256, await server.Sha256OfObjectAsync("artifacts", key, TestContext.CancellationToken));
        Assert.AreEqual(sha256, (await client.GetObjectMetadataAsync("artifacts", key, TestContext.CancellationToken)).Metadata["x-amz-meta-sha256"]);
    }

    [GeneratedRegex(@"\(multipart upload ([^)\s]+)\)")]
    private static partial Regex UploadId();

    /// <summary>An UploadPart request for part 2 or later.</summary>
    [GeneratedRegex(@"[?&]partNumber=([2-9]|\d\d+)(&|$)")]
    private static partial Regex LaterPart();
}
