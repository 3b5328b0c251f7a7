using System.Collections.Concurrent;
using System.Net;
using Amazon.S3;
using SnapLoader.Build.Tasks.S3;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// CompleteMultipartUpload fails without an answer, through a <see cref="FaultProxy"/> in front of
/// a real s3rver: once after S3 built the object (the answer is lost), once before (the request is).
/// The uploader has to look at the key before it says what happened.
/// </summary>
[TestClass]
public sealed class S3CompleteAnswerLostTests
{
    private const int ArchiveBytes = 24 * 1000 * 1000;

    private static S3UploadFixture s_fixture = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context) => s_fixture = await S3UploadFixture.StartAsync("s3-complete-lost");

    [ClassCleanup]
    public static async Task StopServer() => await s_fixture.DisposeAsync();

    [TestMethod]
    public async Task CompletedButTheAnswerLost_IsCheckedWithHeadObjectAndReportedAsUploaded()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("complete");
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl, new FaultRule { When = r => r.IsCompleteMultipartUpload, Fault = Fault.LoseAnswer });
        var (path, sha256) = s_fixture.WriteArchive("lost-answer.zip", ArchiveBytes);
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "lost-answer.zip", proxy.ServiceUrl), log.Enqueue, s_fixture.Options(), TestContext.CancellationToken);

        TestContext.WriteLine(string.Join("\n", proxy.Requests.Select(r => r.ToString()).Concat(log)));
        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        // The Complete reached s3rver, which built the object; its answer never reached the uploader.
        Assert.IsTrue(proxy.Requests.Any(r => r.Target == $"/{bucket}/lost-answer.zip?uploadId={UploadIdOf(log)}" && r.Fault == Fault.LoseAnswer),
            string.Join("\n", proxy.Requests));
        var lines = string.Join("\n", log);
        Assert.Contains($"CompleteMultipartUpload of multipart upload {UploadIdOf(log)} failed (", lines);
        Assert.Contains($"HeadObject finds s3://{bucket}/lost-answer.zip with the archive's size ({ArchiveBytes} bytes) and SHA-256: " +
            "S3 completed the upload and only its answer was lost.", lines);
        Assert.DoesNotContain("nothing was written", lines);
        Assert.DoesNotContain("abort", lines, StringComparison.OrdinalIgnoreCase);
        Assert.AreEqual(sha256, await s_fixture.Server.Sha256OfObjectAsync(bucket, "lost-answer.zip", TestContext.CancellationToken));
        var requests = await s_fixture.Server.SettledRequestsAsync();
        Assert.IsFalse(requests.Any(r => r.StartsWith($"DELETE /{bucket}/", StringComparison.Ordinal)), "a completed upload must not be aborted:\n" + string.Join("\n", requests));
    }

    [TestMethod]
    public async Task CompleteThatNeverArrived_IsCheckedWithHeadObjectAbortedAndFailsWithSnap0034()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("complete");
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl, new FaultRule { When = r => r.IsCompleteMultipartUpload, Fault = Fault.DropRequest });
        var (path, sha256) = s_fixture.WriteArchive("lost-request.zip", ArchiveBytes);
        var log = new ConcurrentQueue<string>();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "lost-request.zip", proxy.ServiceUrl), log.Enqueue, s_fixture.Options(), TestContext.CancellationToken));

        TestContext.WriteLine(string.Join("\n", proxy.Requests.Select(r => r.ToString()).Append(error.Message)));
        Assert.AreEqual(ErrorCodes.UploadFailed, error.Code, error.Message);
        var uploadId = UploadIdOf(log);
        Assert.Contains($"s3://{bucket}/lost-request.zip", error.Message);
        Assert.Contains($"HeadObject finds no object at s3://{bucket}/lost-request.zip, so nothing was written under the key", error.Message);
        Assert.Contains(uploadId, error.Message);
        Assert.IsFalse(proxy.Requests.Any(r => r.IsCompleteMultipartUpload && r.Fault is null), string.Join("\n", proxy.Requests));
        using var client = s_fixture.Server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, "lost-request.zip", TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);
        var requests = await s_fixture.Server.SettledRequestsAsync();
        Assert.ContainsSingle(requests.Where(r => r.StartsWith($"DELETE /{bucket}/lost-request.zip?uploadId={uploadId} ", StringComparison.Ordinal)), string.Join("\n", requests));
    }

    private static string UploadIdOf(IEnumerable<string> log)
    {
        const string marker = "(multipart upload ";
        var line = log.Single(l => l.Contains(marker, StringComparison.Ordinal));
        var start = line.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return line[start..line.IndexOf(')', start)];
    }
}
