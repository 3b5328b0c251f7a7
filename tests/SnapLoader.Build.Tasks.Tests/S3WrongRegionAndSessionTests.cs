using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using SnapLoader.Build.Tasks.S3;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// S3's answers for a bucket in another region and for an expired session, which s3rver cannot give:
/// a <see cref="FaultProxy"/> in front of a real s3rver answers them as S3 does (no body to a HEAD,
/// the code in the XML body of anything else, the bucket's region in x-amz-bucket-region).
/// </summary>
[TestClass]
public sealed class S3WrongRegionAndSessionTests
{
    private const string SessionToken = "IQoJb3JpZ2luX2VjEXPIREDSESSIONTOKEN";
    // s3rver checks only the access key, so the secret can be one a leak would be spotted by.
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
    private const int LargeArchiveBytes = 40 * 1000 * 1000;

    private static S3UploadFixture s_fixture = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context) => s_fixture = await S3UploadFixture.StartAsync("s3-region-session");

    [ClassCleanup]
    public static async Task StopServer() => await s_fixture.DisposeAsync();

    [TestMethod]
    public async Task BucketInAnotherRegion_PermanentRedirect_FailsWithSnap0033NamingBothRegions()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("faults");
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl, new FaultRule { Bucket = bucket, Fault = Fault.PermanentRedirect("eu-west-1") });
        var (path, sha256) = s_fixture.WriteArchive("redirected.zip", 1000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "redirected.zip", proxy.ServiceUrl), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.WrongRegion, error.Code, error.Message);
        Assert.AreEqual("SNAP0033", error.Code);
        Assert.Contains($"The bucket '{bucket}' is not in region us-east-1 (from SnapLoaderRegion)", error.Message);
        Assert.Contains("PermanentRedirect", error.Message);
        Assert.Contains($"s3://{bucket}/redirected.zip", error.Message);
        Assert.Contains("set SnapLoaderRegion (or AWS_REGION) to eu-west-1", error.Message);
        // The HEAD's bodiless 301 and the one-byte GET that recovers S3's code; nothing was uploaded.
        CollectionAssert.AreEqual(
            new[] { $"HEAD /{bucket}/redirected.zip 301", $"GET /{bucket}/redirected.zip 301" },
            proxy.Requests.Select(r => $"{r.Method} {r.Target} {r.Status}").ToArray());
    }

    [TestMethod]
    public async Task RequestSignedForAnotherRegion_AuthorizationHeaderMalformed_FailsWithSnap0033NamingTheBucketsRegion()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("faults");
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl,
            new FaultRule { Bucket = bucket, Fault = Fault.AuthorizationHeaderMalformed(asked: "us-east-1", region: "ap-southeast-2") });
        var (path, sha256) = s_fixture.WriteArchive("malformed.zip", 1000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "malformed.zip", proxy.ServiceUrl), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.WrongRegion, error.Code, error.Message);
        Assert.Contains("AuthorizationHeaderMalformed", error.Message);
        Assert.Contains("set SnapLoaderRegion (or AWS_REGION) to ap-southeast-2", error.Message);
        Assert.IsFalse(proxy.Requests.Any(r => r.Method == "PUT"), string.Join("\n", proxy.Requests));
    }

    [TestMethod]
    public async Task ExpiredSessionToken_FailsWithSnap0031SayingToSignInAgain_WithoutTheSecrets()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("faults");
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl, new FaultRule { Bucket = bucket, Fault = Fault.ExpiredToken });
        var (path, sha256) = s_fixture.WriteArchive("expired.zip", 1000);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "expired.zip", proxy.ServiceUrl), _ => { }, Options(), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.NoCredentials, error.Code, error.Message);
        Assert.Contains("have expired", error.Message);
        // Not S3's bodiless "400 Bad Request" to the HEAD: the code from the GET that follows it.
        Assert.Contains("ExpiredToken, HTTP 400: The provided token has expired", error.Message);
        Assert.Contains("aws sso login", error.Message);
        Assert.DoesNotContain(SessionToken, error.Message);
        Assert.DoesNotContain(SecretKey, error.Message);
        Assert.IsFalse(proxy.Requests.Any(r => r.Method == "PUT"), string.Join("\n", proxy.Requests));
    }

    [TestMethod]
    public async Task SessionExpiringDuringAMultipartUpload_FailsWithSnap0031AndNamesTheUploadToAbort()
    {
        var bucket = await s_fixture.Server.NewBucketAsync("faults");
        // The session ends during the third part: it and every later request of the bucket, the abort
        // too, are refused.
        var expiredParts = new FaultRule { Bucket = bucket, When = r => r.Target.Contains("partNumber=", StringComparison.Ordinal), Skip = 2, Fault = Fault.ExpiredToken };
        await using var proxy = FaultProxy.Start(s_fixture.Server.ServiceUrl, expiredParts, new FaultRule { Bucket = bucket, When = _ => expiredParts.Applied > 0, Fault = Fault.ExpiredToken });
        var (path, sha256) = s_fixture.WriteArchive("expiring.zip", LargeArchiveBytes);
        var log = new ConcurrentQueue<string>();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, s_fixture.Location(bucket, "expiring.zip", proxy.ServiceUrl), log.Enqueue,
                Options(partSize: ArchiveUploadOptions.MinimumPartSize, parallelParts: 1), TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.NoCredentials, error.Code, error.Message);
        Assert.Contains("ExpiredToken", error.Message);
        var uploadId = s_fixture.Server.PendingMultipartUploads(bucket).Single();
        Assert.Contains($"Could not abort multipart upload {uploadId}", error.Message);
        Assert.Contains($"--upload-id {uploadId}", error.Message);
        Assert.IsTrue(proxy.Requests.Any(r => $"{r.Method} {r.Target} {r.Status}" == $"DELETE /{bucket}/expiring.zip?uploadId={uploadId} 400" && r.Fault is not null),
            string.Join("\n", proxy.Requests));
        using var client = s_fixture.Server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, "expiring.zip", TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);
    }

    // Session credentials, as SSO and assumed roles give: S3 refuses them once the token expires.
    private static ArchiveUploadOptions Options(long partSize = 8L * 1024 * 1024, int parallelParts = 4) =>
        s_fixture.Options(partSize, parallelParts, new SessionAWSCredentials(s_fixture.Server.AccessKey, SecretKey, SessionToken));
}
