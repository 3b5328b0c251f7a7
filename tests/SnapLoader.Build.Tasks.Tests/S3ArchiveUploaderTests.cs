using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SnapLoader.Build.Tasks.S3;
using SnapLoader.Tests;
// Amazon.S3.Model has an S3Location too.
using S3Location = SnapLoader.Build.Tasks.S3.S3Location;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>Uploads to a real s3rver on 127.0.0.1, with credentials passed in the options.</summary>
[TestClass]
public sealed class S3ArchiveUploaderTests
{
    private const int LargeArchiveBytes = 40 * 1000 * 1000;

    private static S3UploadFixture s_fixture = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context) => s_fixture = await S3UploadFixture.StartAsync("s3-uploader");

    [ClassCleanup]
    public static async Task StopServer() => await s_fixture.DisposeAsync();

    [TestMethod]
    public async Task SmallArchive_IsPutInOneRequestWithItsSha256AsMetadata()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("small.zip", 300_000);
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "a/small.zip"), log.Enqueue, s_fixture.Options(), TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        using var client = s_fixture.Server.CreateClient();
        var head = await client.GetObjectMetadataAsync(bucket, "a/small.zip", TestContext.CancellationToken);
        Assert.AreEqual(300_000, head.ContentLength);
        Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        Assert.AreEqual("application/zip", head.Headers.ContentType);
        Assert.AreEqual(sha256, await s_fixture.Server.Sha256OfObjectAsync(bucket, "a/small.zip", TestContext.CancellationToken));
        var requests = await s_fixture.Server.SettledRequestsAsync();
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"PUT /{bucket}/a/small.zip ", StringComparison.Ordinal)));
        Assert.IsFalse(requests.Any(r => r.Contains("uploadId", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.IsTrue(log.Any(l => l.StartsWith("Uploaded s3://", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task LargeArchive_IsUploadedInParallelPartsAndArrivesWhole()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("large.zip", LargeArchiveBytes);
        var log = new ConcurrentQueue<string>();
        var options = s_fixture.Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 3);

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "large.zip"), log.Enqueue, options, TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        Assert.AreEqual(sha256, await s_fixture.Server.Sha256OfObjectAsync(bucket, "large.zip", TestContext.CancellationToken));
        using var client = s_fixture.Server.CreateClient();
        var head = await client.GetObjectMetadataAsync(bucket, "large.zip", TestContext.CancellationToken);
        Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        var requests = await s_fixture.Server.SettledRequestsAsync();
        Assert.HasCount(8, requests.Where(r => r.StartsWith($"PUT /{bucket}/large.zip?partNumber=", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal)));
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"POST /{bucket}/large.zip?uploadId=", StringComparison.Ordinal)));
        var progressLines = log.Where(l => l.StartsWith("Uploading s3://", StringComparison.Ordinal) && l.Contains("%)", StringComparison.Ordinal)).ToArray();
        Assert.IsGreaterThanOrEqualTo(5, progressLines.Length, string.Join("\n", log));
        Assert.IsTrue(progressLines.All(l => l.Contains("MB/s", StringComparison.Ordinal)), string.Join("\n", progressLines));
        Assert.IsTrue(log.Any(l => l.Contains("8 parts", StringComparison.Ordinal) && l.Contains("3 at a time", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task SecondUpload_FindsTheArchivePresentAndDoesNotRewriteIt()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("again.zip", 200_000);
        var location = s_fixture.Location(bucket, "again.zip");
        await ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, s_fixture.Options(), TestContext.CancellationToken);
        using var client = s_fixture.Server.CreateClient();
        var before = await client.GetObjectMetadataAsync(bucket, "again.zip", TestContext.CancellationToken);
        // Last-Modified has one-second resolution: without the wait a rewrite could keep it.
        await Task.Delay(TimeSpan.FromSeconds(1.1), TestContext.CancellationToken);
        var requestsBefore = (await s_fixture.Server.SettledRequestsAsync()).Count;
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, location, log.Enqueue, s_fixture.Options(), TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.AlreadyPresent, outcome);
        var after = await client.GetObjectMetadataAsync(bucket, "again.zip", TestContext.CancellationToken);
        Assert.AreEqual(before.ETag, after.ETag);
        Assert.AreEqual(before.LastModified, after.LastModified);
        var sentByUploader = (await s_fixture.Server.SettledRequestsAsync()).Skip(requestsBefore).ToArray();
        // The HEAD of the uploader, then the HEAD of this test.
        CollectionAssert.AreEqual(new[] { $"HEAD /{bucket}/again.zip 200", $"HEAD /{bucket}/again.zip 200" }, sentByUploader);
        Assert.ContainsSingle(log);
        Assert.Contains("already there", log.Single());
    }

    [TestMethod]
    public async Task ExistingObjectOfAnotherSize_FailsWithSnap0036AndIsKept()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        await s_fixture.Server.PutObjectAsync(bucket, "taken.zip", "0123456789"u8.ToArray());
        var (path, sha256) = s_fixture.WriteArchive("taken.zip", 50_000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "taken.zip"), _ => { }, s_fixture.Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.ExistingObjectDiffers, error.Code);
        Assert.Contains($"s3://{bucket}/taken.zip", error.Message);
        Assert.Contains("10 bytes", error.Message);
        Assert.Contains("50000 bytes", error.Message);
        using var client = s_fixture.Server.CreateClient();
        Assert.AreEqual(10, (await client.GetObjectMetadataAsync(bucket, "taken.zip", TestContext.CancellationToken)).ContentLength);
    }

    [TestMethod]
    public async Task ExistingObjectOfTheSameSizeWithAnotherSha256_FailsWithSnap0036()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("same-size.zip", 4096);
        var otherSha256 = Convert.ToHexStringLower(SHA256.HashData(new byte[4096]));
        await s_fixture.Server.PutObjectAsync(bucket, "same-size.zip", new byte[4096], new Dictionary<string, string> { ["sha256"] = otherSha256 });

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "same-size.zip"), _ => { }, s_fixture.Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.ExistingObjectDiffers, error.Code);
        Assert.Contains(otherSha256, error.Message);
        Assert.Contains(sha256, error.Message);
    }

    [TestMethod]
    public async Task MissingBucket_FailsWithSnap0030()
    {
        var (path, sha256) = s_fixture.WriteArchive("orphan.zip", 1000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location("snaploader-missing-bucket", "orphan.zip"), _ => { }, s_fixture.Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.BucketNotFound, error.Code, error.Message);
        Assert.Contains("'snaploader-missing-bucket'", error.Message);
    }

    [TestMethod]
    public async Task ClosedPort_FailsWithinSecondsWithSnap0035()
    {
        var (path, sha256) = s_fixture.WriteArchive("nowhere.zip", 1000);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var location = new S3Location("bucket", "nowhere.zip", "us-east-1", Profile: null, ServiceUrl: $"http://127.0.0.1:{port}");
        var elapsed = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, s_fixture.Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.EndpointUnreachable, error.Code, error.Message);
        Assert.Contains($"http://127.0.0.1:{port}", error.Message);
        Assert.Contains("connection refused", error.Message);
        // Two retries take well under a second; eight would take several.
        Assert.IsLessThan(3, elapsed.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public void UnknownHostName_IsReportedAsUnreachable()
    {
        // What SocketsHttpHandler throws for a name that does not resolve (not provoked for real: that
        // would query DNS servers outside this machine).
        var error = new AmazonServiceException(
            "An error occurred",
            new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known (s3.nowhere.invalid:443)",
                new SocketException((int)SocketError.HostNotFound)));

        Assert.StartsWith("host name not found", S3ErrorTranslator.UnreachableReason(error));
    }

    [TestMethod]
    public async Task CancelledMultipartUpload_IsAbortedAndLeavesNoObject()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("cancelled.zip", LargeArchiveBytes);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        var log = new ConcurrentQueue<string>();
        void Log(string line)
        {
            log.Enqueue(line);
            if (line.Contains("%)", StringComparison.Ordinal))
            {
                // Asynchronously: this runs on a thread that is sending a part.
                _ = cancellation.CancelAsync();
            }
        }

        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "cancelled.zip"), Log, s_fixture.Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 2), cancellation.Token));

        await AssertAbortedWithoutObjectAsync(bucket, "cancelled.zip", log);
    }

    [TestMethod]
    public async Task FailedMultipartUpload_FailsWithSnap0034AndIsAborted()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("uploads");
        var (path, sha256) = s_fixture.WriteArchive("failed.zip", LargeArchiveBytes);
        var log = new ConcurrentQueue<string>();
        void Log(string line)
        {
            log.Enqueue(line);
            if (line.Contains("%)", StringComparison.Ordinal))
            {
                // The parts not yet started can no longer be read.
                File.Delete(path);
            }
        }

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "failed.zip"), Log, s_fixture.Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 2), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.UploadFailed, error.Code, error.Message);
        Assert.Contains($"s3://{bucket}/failed.zip", error.Message);
        Assert.Contains(path, error.Message);
        await AssertAbortedWithoutObjectAsync(bucket, "failed.zip", log);
    }

    /// <summary>
    /// No object under the key, no CompleteMultipartUpload sent, and an AbortMultipartUpload sent for
    /// every upload s3rver still holds (s3rver answers it 405 and keeps the parts: it implements neither
    /// abort nor ListMultipartUploads, so its data folder is what tells the uploads).
    /// </summary>
    private async Task AssertAbortedWithoutObjectAsync(string bucket, string key, IEnumerable<string> log)
    {
        using var client = s_fixture.Server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, key, TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);

        var requests = await s_fixture.Server.SettledRequestsAsync();
        var uploads = s_fixture.Server.PendingMultipartUploads(bucket);
        Assert.ContainsSingle(uploads, string.Join("\n", requests));
        Assert.IsFalse(requests.Any(r => r.StartsWith($"POST /{bucket}/{key}?uploadId=", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"DELETE /{bucket}/{key}?uploadId={uploads[0]} ", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.IsTrue(log.Any(l => l.Contains(uploads[0], StringComparison.Ordinal) && l.Contains("abort", StringComparison.OrdinalIgnoreCase)), string.Join("\n", log));
    }
}
