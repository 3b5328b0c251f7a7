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

    private static S3rverServer s_server = null!;
    private static string s_folder = null!;
    private static int s_bucketCount;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        s_server = await S3rverServer.StartAsync();
        s_folder = TestPaths.NewTempFolder("s3-uploader");
    }

    [ClassCleanup]
    public static async Task StopServer()
    {
        await s_server.DisposeAsync();
        Directory.Delete(s_folder, recursive: true);
    }

    [TestMethod]
    public async Task SmallArchive_IsPutInOneRequestWithItsSha256AsMetadata()
    {
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("small.zip", 300_000);
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "a/small.zip"), log.Enqueue, Options(), TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        using var client = s_server.CreateClient();
        var head = await client.GetObjectMetadataAsync(bucket, "a/small.zip", TestContext.CancellationToken);
        Assert.AreEqual(300_000, head.ContentLength);
        Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        Assert.AreEqual("application/zip", head.Headers.ContentType);
        Assert.AreEqual(sha256, await DownloadSha256Async(bucket, "a/small.zip"));
        var requests = await s_server.SettledRequestsAsync();
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"PUT /{bucket}/a/small.zip ", StringComparison.Ordinal)));
        Assert.IsFalse(requests.Any(r => r.Contains("uploadId", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.IsTrue(log.Any(l => l.StartsWith("Uploaded s3://", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task LargeArchive_IsUploadedInParallelPartsAndArrivesWhole()
    {
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("large.zip", LargeArchiveBytes);
        var log = new ConcurrentQueue<string>();
        var options = Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 3);

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "large.zip"), log.Enqueue, options, TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        Assert.AreEqual(sha256, await DownloadSha256Async(bucket, "large.zip"));
        using var client = s_server.CreateClient();
        var head = await client.GetObjectMetadataAsync(bucket, "large.zip", TestContext.CancellationToken);
        Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        var requests = await s_server.SettledRequestsAsync();
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
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("again.zip", 200_000);
        var location = Location(bucket, "again.zip");
        await ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, Options(), TestContext.CancellationToken);
        using var client = s_server.CreateClient();
        var before = await client.GetObjectMetadataAsync(bucket, "again.zip", TestContext.CancellationToken);
        // Last-Modified has one-second resolution: without the wait a rewrite could keep it.
        await Task.Delay(TimeSpan.FromSeconds(1.1), TestContext.CancellationToken);
        var requestsBefore = (await s_server.SettledRequestsAsync()).Count;
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, location, log.Enqueue, Options(), TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.AlreadyPresent, outcome);
        var after = await client.GetObjectMetadataAsync(bucket, "again.zip", TestContext.CancellationToken);
        Assert.AreEqual(before.ETag, after.ETag);
        Assert.AreEqual(before.LastModified, after.LastModified);
        var sentByUploader = (await s_server.SettledRequestsAsync()).Skip(requestsBefore).ToArray();
        // The HEAD of the uploader, then the HEAD of this test.
        CollectionAssert.AreEqual(new[] { $"HEAD /{bucket}/again.zip 200", $"HEAD /{bucket}/again.zip 200" }, sentByUploader);
        Assert.ContainsSingle(log);
        Assert.Contains("already there", log.Single());
    }

    [TestMethod]
    public async Task ExistingObjectOfAnotherSize_FailsWithSnap0036AndIsKept()
    {
        var bucket = await NewBucketAsync();
        await s_server.PutObjectAsync(bucket, "taken.zip", "0123456789"u8.ToArray());
        var (path, sha256) = WriteArchive("taken.zip", 50_000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "taken.zip"), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.ExistingObjectDiffers, error.Code);
        Assert.Contains($"s3://{bucket}/taken.zip", error.Message);
        Assert.Contains("10 bytes", error.Message);
        Assert.Contains("50000 bytes", error.Message);
        using var client = s_server.CreateClient();
        Assert.AreEqual(10, (await client.GetObjectMetadataAsync(bucket, "taken.zip", TestContext.CancellationToken)).ContentLength);
    }

    [TestMethod]
    public async Task ExistingObjectOfTheSameSizeWithAnotherSha256_FailsWithSnap0036()
    {
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("same-size.zip", 4096);
        var otherSha256 = Convert.ToHexStringLower(SHA256.HashData(new byte[4096]));
        await s_server.PutObjectAsync(bucket, "same-size.zip", new byte[4096], new Dictionary<string, string> { ["sha256"] = otherSha256 });

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "same-size.zip"), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.ExistingObjectDiffers, error.Code);
        Assert.Contains(otherSha256, error.Message);
        Assert.Contains(sha256, error.Message);
    }

    [TestMethod]
    public async Task MissingBucket_FailsWithSnap0030()
    {
        var (path, sha256) = WriteArchive("orphan.zip", 1000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, Location("snaploader-missing-bucket", "orphan.zip"), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.BucketNotFound, error.Code, error.Message);
        Assert.Contains("'snaploader-missing-bucket'", error.Message);
    }

    [TestMethod]
    public async Task ClosedPort_FailsWithinSecondsWithSnap0035()
    {
        var (path, sha256) = WriteArchive("nowhere.zip", 1000);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var location = new S3Location("bucket", "nowhere.zip", "us-east-1", Profile: null, ServiceUrl: $"http://127.0.0.1:{port}");
        var elapsed = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, Options(), TestContext.CancellationToken));

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
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("cancelled.zip", LargeArchiveBytes);
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
            ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "cancelled.zip"), Log, Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 2), cancellation.Token));

        await AssertAbortedWithoutObjectAsync(bucket, "cancelled.zip", log);
    }

    [TestMethod]
    public async Task FailedMultipartUpload_FailsWithSnap0034AndIsAborted()
    {
        var bucket = await NewBucketAsync();
        var (path, sha256) = WriteArchive("failed.zip", LargeArchiveBytes);
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
            ArchiveUploader.UploadAsync(path, sha256, Location(bucket, "failed.zip"), Log, Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 2), TestContext.CancellationToken));

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
        using var client = s_server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, key, TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);

        var requests = await s_server.SettledRequestsAsync();
        var uploads = s_server.PendingMultipartUploads(bucket);
        Assert.ContainsSingle(uploads, string.Join("\n", requests));
        Assert.IsFalse(requests.Any(r => r.StartsWith($"POST /{bucket}/{key}?uploadId=", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"DELETE /{bucket}/{key}?uploadId={uploads[0]} ", StringComparison.Ordinal)), string.Join("\n", requests));
        Assert.IsTrue(log.Any(l => l.Contains(uploads[0], StringComparison.Ordinal) && l.Contains("abort", StringComparison.OrdinalIgnoreCase)), string.Join("\n", log));
    }

    private static S3Location Location(string bucket, string key) =>
        new(bucket, key, "us-east-1", Profile: null, ServiceUrl: s_server.ServiceUrl);

    private static ArchiveUploadOptions Options(long partSize = 8L * 1024 * 1024, int parallelParts = 4) => new()
    {
        Credentials = new BasicAWSCredentials(s_server.AccessKey, s_server.SecretKey),
        PartSize = partSize,
        MaxParallelParts = parallelParts,
    };

    private static async Task<string> NewBucketAsync()
    {
        var bucket = $"uploads-{Interlocked.Increment(ref s_bucketCount)}";
        await s_server.CreateBucketAsync(bucket);
        return bucket;
    }

    private static (string Path, string Sha256) WriteArchive(string name, int length)
    {
        var path = Path.Combine(s_folder, $"{Guid.NewGuid():N}-{name}");
        var bytes = RandomNumberGenerator.GetBytes(length);
        File.WriteAllBytes(path, bytes);
        return (path, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    private async Task<string> DownloadSha256Async(string bucket, string key)
    {
        using var client = s_server.CreateClient();
        using var response = await client.GetObjectAsync(bucket, key, TestContext.CancellationToken);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(response.ResponseStream, TestContext.CancellationToken));
    }
}
