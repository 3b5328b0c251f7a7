using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Amazon.S3;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// The S3 server dies for real (its node process killed) while the UploadArchive task of a publish
/// sends the parts of a multipart upload, then comes back on the same port and data folder.
/// </summary>
/// <remarks>Sets AWS_* environment variables of this process, as a publish takes its credentials from them.</remarks>
[TestClass]
[DoNotParallelize]
public sealed partial class S3UploadInterruptedTests
{
    // Above the 16 MiB multipart threshold: five parts of 8 MiB, four at a time.
    private const int ArchiveBytes = 40 * 1000 * 1000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task ServerKilledDuringTheParts_FailsNamingBucketKeyAndUpload_LeavesNoObject_AndTheNextPublishUploads()
    {
        await using var server = await S3rverServer.StartAsync("interrupted");
        var folder = TestPaths.NewTempFolder("s3-interrupted");
        var (path, sha256) = RandomArchive.Write(folder, "archive.zip", ArchiveBytes);
        using var environment = new EnvironmentScope(server.AwsVariables());
        var elapsed = Stopwatch.StartNew();

        var engine = new RecordingBuildEngine();
        var killed = false;
        engine.OnMessage = line =>
        {
            // At the first progress line some parts are in flight and none is complete. Killing here,
            // on a thread that sends a part, holds that part until the server is gone.
            if (!killed && line.Contains("%)", StringComparison.Ordinal))
            {
                killed = true;
                server.KillAsync().GetAwaiter().GetResult();
            }
        };
        var first = Task(engine, server, path, sha256);

        Assert.IsFalse(first.Execute(), engine.AllText);

        Assert.IsTrue(killed, "the upload finished before the server was killed:\n" + engine.AllText);
        var uploadId = UploadIdLine().Match(engine.AllText) is { Success: true } match ? match.Groups[1].Value : null;
        Assert.IsNotNull(uploadId, engine.AllText);
        var error = engine.Errors.Single();
        var message = error.Message ?? "";
        // The server is gone by the time the SDK's retries run out, so the endpoint is unreachable.
        Assert.AreEqual(ErrorCodes.EndpointUnreachable, error.Code, message);
        Assert.Contains("s3://interrupted/functions/archive.zip", message);
        Assert.Contains(server.ServiceUrl, message);
        // The abort was tried and could not reach the server: the error says how to clean up.
        Assert.Contains($"Could not abort multipart upload {uploadId}", message);
        Assert.Contains($"aws s3api abort-multipart-upload --bucket interrupted --key functions/archive.zip --upload-id {uploadId}", message);
        Assert.Contains("nothing was written under the key", message);
        var failedAfter = elapsed.Elapsed;

        await server.RestartAsync();
        using var client = server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() =>
            client.GetObjectMetadataAsync("interrupted", "functions/archive.zip", TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);
        // s3rver kept the parts the killed upload sent (it cannot abort anyway), as S3 would until aborted.
        CollectionAssert.Contains(server.PendingMultipartUploads("interrupted").ToList(), uploadId);

        var nextEngine = new RecordingBuildEngine();
        var next = Task(nextEngine, server, path, sha256);

        Assert.IsTrue(next.Execute(), nextEngine.AllText);

        Assert.IsTrue(next.Uploaded, nextEngine.AllText);
        Assert.AreEqual(sha256, await server.Sha256OfObjectAsync("interrupted", "functions/archive.zip", TestContext.CancellationToken));
        var head = await client.GetObjectMetadataAsync("interrupted", "functions/archive.zip", TestContext.CancellationToken);
        Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        TestContext.WriteLine(message);
        TestContext.WriteLine($"failed {failedAfter.TotalSeconds:0.0} s after the start; all done in {elapsed.Elapsed.TotalSeconds:0.0} s");
        Directory.Delete(folder, recursive: true);
    }

    private static UploadArchive Task(RecordingBuildEngine engine, S3rverServer server, string path, string sha256) => new()
    {
        BuildEngine = engine,
        ArchivePath = path,
        ArchiveSha256 = sha256,
        Bucket = "interrupted",
        Key = "functions/archive.zip",
        Region = "us-east-1",
        ServiceUrl = server.ServiceUrl,
    };

    [GeneratedRegex(@"\(multipart upload ([^)\s]+)\)")]
    private static partial Regex UploadIdLine();
}
