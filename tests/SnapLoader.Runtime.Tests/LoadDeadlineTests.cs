using System.Diagnostics;
using SnapLoader.Tests;
using static SnapLoader.Runtime.Tests.S3FaultFixture;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// SNAPLOADER_LOAD_TIMEOUT: a load that cannot finish stops at its deadline with its own error, naming the archive
/// and how long it waited, and leaves no memory file; the caller's own cancellation stays a cancellation.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets environment variables, counts this process's memory files, and calls SnapLoaderRuntime.Start.
public sealed class LoadDeadlineTests
{
    private static S3FaultFixture s_fixture = null!;
    private EnvironmentScope? _environment;

    public TestContext TestContext { get; set; } = null!;

    private static FaultProxy Proxy => s_fixture.Proxy;

    [ClassInitialize]
    public static async Task Start(TestContext context) => s_fixture = await S3FaultFixture.StartAsync();

    [ClassCleanup]
    public static async Task Stop() => await s_fixture.DisposeAsync();

    [TestInitialize]
    public void UseProxy()
    {
        Proxy.Reset();
        _environment = s_fixture.UseProxy(new() { ["SNAPLOADER_TARGET_DIR"] = Path.Combine(s_fixture.Folder, "links") });
        // Every data range stalls far longer than any deadline here; the default stall timeout (2 s) outlasts them too.
        Proxy.Inject(new FaultRule { Path = PathOf(ZstdKey), MinRangeLength = DataRangeLength, Fault = Fault.StallAfter(1000, TimeSpan.FromSeconds(60)) });
    }

    [TestCleanup]
    public void RestoreEnvironment()
    {
        TestContext.WriteLine(string.Join('\n', Proxy.Requests));
        _environment?.Dispose();
    }

    [TestMethod]
    public void StartStopsAStalledLoadAtItsDeadline()
    {
        Environment.SetEnvironmentVariable("SNAPLOADER_LOAD_TIMEOUT", "1");
        var (archive, files) = s_fixture.Archives[ZstdKey];
        var manifest = new SnapLoaderManifest(
            new ArchiveLocation("zstd.zip", Sha256Hex.OfFile(archive), new FileInfo(archive).Length, Bucket, ZstdKey), "linux-x64", files);
        var before = TestArchives.OpenMemfds();
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => SnapLoaderRuntime.Start(manifest));

        clock.Stop();
        TestContext.WriteLine($"{clock.Elapsed.TotalSeconds:F2} s: {error.Message}");
        Assert.AreEqual(RuntimeErrorCodes.LoadDeadlineExceeded, error.Code);
        Assert.IsTrue(clock.Elapsed >= TimeSpan.FromSeconds(0.9) && clock.Elapsed < TimeSpan.FromSeconds(2.5), $"stopped at the deadline: {clock.Elapsed.TotalSeconds:F2} s");
        StringAssert.Contains(error.Message, $"Loading s3://{Bucket}/{ZstdKey} did not finish within its deadline of 1 s (SNAPLOADER_LOAD_TIMEOUT");
        StringAssert.Matches(error.Message, new System.Text.RegularExpressions.Regex(@"stopped after 1\.\d s, [\d,]+ bytes had arrived from S3"));
        Assert.IsInstanceOfType<OperationCanceledException>(error.InnerException);
        Assert.IsNull(SnapLoaderRuntime.Manifest, "nothing was started");
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray(), "every memory file was closed");
        Assert.IsTrue(Proxy.Requests.Any(r => r.Fault is not null), "the load reached the stalled data");
    }

    [TestMethod]
    public async Task StreamLibrariesFromS3StopsAtItsDeadline()
    {
        Environment.SetEnvironmentVariable("SNAPLOADER_LOAD_TIMEOUT", "0.5");
        var before = TestArchives.OpenMemfds();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() =>
            SnapLoaderRuntime.StreamLibrariesFromS3Async(Bucket, ZstdKey, new ArchiveLoadOptions { BasePath = "/opt/deadline", TargetDirectory = Path.Combine(s_fixture.Folder, "api-links") }));

        Assert.AreEqual(RuntimeErrorCodes.LoadDeadlineExceeded, error.Code, error.Message);
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(2), $"{clock.Elapsed.TotalSeconds:F2} s");
        StringAssert.Contains(error.Message, "deadline of 0.5 s");
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task TheCallersCancellationStaysACancellation()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            SnapLoaderRuntime.StreamLibrariesFromS3Async(Bucket, ZstdKey, new ArchiveLoadOptions { BasePath = "/opt/cancel", TargetDirectory = Path.Combine(s_fixture.Folder, "cancel-links") }, cancel.Token));

        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(2), $"{clock.Elapsed.TotalSeconds:F2} s");
    }

    [TestMethod]
    [DataRow(null, 9.0)]
    [DataRow("2.5", 2.5)]
    [DataRow("0", null)]
    [DataRow("nine", 9.0)]
    [DataRow("-3", 9.0)]
    [DataRow("1e9", 9.0)]      // beyond what CancelAfter takes
    [DataRow("0.00000001", 9.0)] // would have passed before the load starts
    public void TheDeadlineComesFromTheEnvironment(string? value, double? seconds)
    {
        Environment.SetEnvironmentVariable("SNAPLOADER_LOAD_TIMEOUT", value);

        Assert.AreEqual(seconds, LoadDeadline.FromEnvironment().Timeout?.TotalSeconds);
    }

    [TestMethod]
    [DataRow("snap-start", null, 125.0)]
    [DataRow("snap-start", "nine", 125.0)]
    [DataRow("snap-start", "30", 30.0)]
    [DataRow("on-demand", null, 9.0)]
    public void SnapStartsLongerInitHasALongerDefault(string initializationType, string? value, double seconds)
    {
        Environment.SetEnvironmentVariable("AWS_LAMBDA_INITIALIZATION_TYPE", initializationType);
        Environment.SetEnvironmentVariable("SNAPLOADER_LOAD_TIMEOUT", value);
        try
        {
            Assert.AreEqual(seconds, LoadDeadline.FromEnvironment().Timeout?.TotalSeconds);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_LAMBDA_INITIALIZATION_TYPE", null);
        }
    }
}
