using SnapLoader.Tests;
using static SnapLoader.Runtime.Tests.S3FaultFixture;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The region the runtime asks S3 in: a bucket in another region fails at its first answer with both regions named,
/// and a bucket named by SNAPLOADER_ARCHIVE is not looked for in the build bucket's region.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets AWS_* and SNAPLOADER_* environment variables.
public sealed class S3RegionTests
{
    private const string OtherBucket = "snaploader-other-bucket";
    private static S3FaultFixture s_fixture = null!;
    private EnvironmentScope? _environment;

    public TestContext TestContext { get; set; } = null!;

    private static FaultProxy Proxy => s_fixture.Proxy;

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        s_fixture = await S3FaultFixture.StartAsync();
        await s_fixture.Server.CreateBucketAsync(OtherBucket);
        await s_fixture.Server.PutObjectAsync(OtherBucket, ZstdKey, await File.ReadAllBytesAsync(s_fixture.Archives[ZstdKey].Archive));
    }

    [ClassCleanup]
    public static async Task Stop() => await s_fixture.DisposeAsync();

    [TestInitialize]
    public void UseProxy()
    {
        Proxy.Reset();
        _environment = s_fixture.UseProxy();
    }

    [TestCleanup]
    public void RestoreEnvironment()
    {
        TestContext.WriteLine(string.Join('\n', Proxy.Requests));
        _environment?.Dispose();
    }

    [TestMethod]
    [DataRow("PermanentRedirect")]
    [DataRow("AuthorizationHeaderMalformed")]
    public async Task ABucketInAnotherRegionIsNamedWithBothRegions(string answer)
    {
        Proxy.Inject(new FaultRule
        {
            Path = PathOf(ZstdKey),
            Fault = answer == "PermanentRedirect" ? Fault.PermanentRedirect("eu-west-1") : Fault.AuthorizationHeaderMalformed("us-east-1", "eu-west-1"),
        });
        await using var source = S3ArchiveSource.Create(Bucket, ZstdKey, region: null, QuickRetry);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, s_fixture.Archives[ZstdKey].Files, null, Options, CancellationToken.None));

        TestContext.WriteLine(error.Message);
        Assert.AreEqual(RuntimeErrorCodes.S3WrongRegion, error.Code);
        StringAssert.Contains(error.Message, answer);
        StringAssert.Contains(error.Message, $"bucket '{Bucket}' is in region 'eu-west-1', but the request asked region 'us-east-1'");
        StringAssert.Contains(error.Message, "SnapLoaderRegion=eu-west-1");
        Assert.AreEqual(1, Proxy.Requests.Count, "a wrong region is not retried");
    }

    [TestMethod]
    public async Task AnotherBucketInSnapLoaderArchiveIsAskedInTheFunctionsRegion()
    {
        // The build put its archive in a bucket in eu-west-3; the function runs in us-west-2 and is pointed elsewhere.
        var (archive, _) = s_fixture.Archives[ZstdKey];
        var location = new ArchiveLocation("zstd.zip", new string('0', 64), new FileInfo(archive).Length, Bucket, ZstdKey, region: "eu-west-3");
        using var env = new EnvironmentScope(new() { ["AWS_REGION"] = "us-west-2", ["SNAPLOADER_ARCHIVE"] = $"s3://{OtherBucket}/{ZstdKey}" });

        await using (var source = SnapLoaderRuntime.ArchiveSourceFor(location))
        {
            Assert.AreEqual("us-west-2", ((S3ArchiveSource)source).RegionAsked);
            await ZipDirectory.ReadAsync(source, CancellationToken.None);
        }
        Assert.AreEqual("us-west-2", Proxy.RequestsFor(PathOf(ZstdKey, OtherBucket)).Select(r => r.SigningRegion).Distinct().Single(), "signed for the function's region");

        // The build's own bucket named the same way keeps the build's region.
        Proxy.Reset();
        Environment.SetEnvironmentVariable("SNAPLOADER_ARCHIVE", $"s3://{Bucket}/{ZstdKey}");
        await using (var source = SnapLoaderRuntime.ArchiveSourceFor(location))
        {
            await ZipDirectory.ReadAsync(source, CancellationToken.None);
        }
        Assert.AreEqual("eu-west-3", Proxy.RequestsFor(PathOf(ZstdKey)).Select(r => r.SigningRegion).Distinct().Single());
    }
}
