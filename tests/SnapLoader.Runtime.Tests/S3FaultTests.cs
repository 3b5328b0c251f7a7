using System.Diagnostics;
using SnapLoader.Tests;
using static SnapLoader.Runtime.Tests.S3FaultFixture;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Faults between the runtime and S3, injected by a real proxy in front of s3rver while real archives load: what is
/// worth retrying is retried per range (and a broken body resumed) until the files verify; what is not fails at its
/// first request with its own code; retries that run out fail with the range named, and leave nothing open.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets AWS_* environment variables and counts this process's memory files.
public sealed class S3FaultTests
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
        _environment = s_fixture.UseProxy();
    }

    [TestCleanup]
    public void RestoreEnvironment()
    {
        TestContext.WriteLine(string.Join('\n', Proxy.Requests));
        _environment?.Dispose();
    }

    [TestMethod]
    public async Task InternalErrorOnceIsRetriedAndTheFilesVerify()
    {
        var rule = Proxy.Inject(new FaultRule { Path = PathOf(ZstdKey), MinRangeLength = DataRangeLength, Times = 1, Fault = Fault.InternalError });

        AssertIntactAndClose(await LoadAsync(ZstdKey));

        Assert.AreEqual(1, rule.Applied);
        var gets = Proxy.RequestsFor(PathOf(ZstdKey));
        var failed = gets.Single(r => r.Status == 500);
        CollectionAssert.AreEqual(new[] { 500, 206 }, gets.Where(r => r.RangeStart == failed.RangeStart && r.RangeEnd == failed.RangeEnd).Select(r => r.Status).ToArray(),
            "the failed range was asked once more, whole");
        Assert.AreEqual(Ranges(gets) + 1, gets.Count, "one request more than a load without faults");
    }

    [TestMethod]
    public async Task SlowDownBacksOffExponentiallyThenSucceeds()
    {
        // One range at a time, so that both 503s hit the same range; the jitter pinned to its top makes the waits exact.
        var retry = new S3RetrySettings { BaseDelay = TimeSpan.FromMilliseconds(150), MaxDelay = TimeSpan.FromSeconds(1), StallTimeout = TimeSpan.FromSeconds(1), Jitter = () => 0.999 };
        var options = new LoaderSettings { RangeSize = Options.RangeSize, AllowAnyRangeSize = true, Parallelism = 1, EntryParallelism = 1 };
        Proxy.Inject(new FaultRule { Path = PathOf(StoredKey), MinRangeLength = DataRangeLength, Times = 2, Fault = Fault.SlowDown });

        AssertIntactAndClose(await LoadAsync(StoredKey, retry, options));

        var gets = Proxy.RequestsFor(PathOf(StoredKey));
        var first = gets.First(r => r.Status == 503);
        var same = gets.Where(r => r.RangeStart == first.RangeStart && r.RangeEnd == first.RangeEnd).ToArray();
        CollectionAssert.AreEqual(new[] { 503, 503, 206 }, same.Select(r => r.Status).ToArray());
        var waits = new[] { same[1].At - same[0].At, same[2].At - same[1].At };
        TestContext.WriteLine($"waits: {waits[0].TotalMilliseconds:F0} ms, {waits[1].TotalMilliseconds:F0} ms");
        Assert.IsTrue(waits[0] >= TimeSpan.FromMilliseconds(140), $"first backoff about 150 ms: {waits[0].TotalMilliseconds:F0} ms");
        Assert.IsTrue(waits[1] >= TimeSpan.FromMilliseconds(290), $"second backoff doubled, about 300 ms: {waits[1].TotalMilliseconds:F0} ms");
        Assert.AreEqual(Ranges(gets) + 2, gets.Count);
    }

    [TestMethod]
    public void BackoffIsAFullJitterDrawUnderADoublingCap()
    {
        var draws = new Queue<double>([0.0, 0.5, 0.999, 0.999, 0.999, 0.999]);
        var retry = new S3RetrySettings { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(500), Jitter = draws.Dequeue };

        Assert.AreEqual(TimeSpan.Zero, retry.DelayAfter(1), "full jitter may not wait at all");
        Assert.AreEqual(50, retry.DelayAfter(1).TotalMilliseconds, 1, "half of the first cap");
        Assert.AreEqual(100, retry.DelayAfter(1).TotalMilliseconds, 1);
        Assert.AreEqual(200, retry.DelayAfter(2).TotalMilliseconds, 1);
        Assert.AreEqual(400, retry.DelayAfter(3).TotalMilliseconds, 1);
        Assert.AreEqual(500, retry.DelayAfter(10).TotalMilliseconds, 1, "the cap stops at MaxDelay");
        var defaults = S3RetrySettings.Default;
        var worst = Enumerable.Range(1, defaults.MaxAttempts - 1).Sum(n => Math.Min(defaults.MaxDelay.TotalSeconds, defaults.BaseDelay.TotalSeconds * Math.Pow(2, n - 1)));
        Assert.IsTrue(worst + defaults.MaxAttempts * defaults.StallTimeout.TotalSeconds < 10, $"the defaults fit Lambda's init: {worst:F1} s of backoff");
    }

    [TestMethod]
    [DataRow(StoredKey)]
    [DataRow(ZstdKey)]
    public async Task ResetInTheMiddleOfABodyResumesFromTheByteReached(string key)
    {
        Proxy.Inject(new FaultRule { Path = PathOf(key), MinRangeLength = DataRangeLength, Times = 1, Fault = Fault.ResetAfter(60_000) });

        AssertIntactAndClose(await LoadAsync(key));

        AssertResumed(Proxy.RequestsFor(PathOf(key)), 60_000);
    }

    [TestMethod]
    public async Task TruncatedBodyIsResumed()
    {
        Proxy.Inject(new FaultRule { Path = PathOf(ZstdKey), MinRangeLength = DataRangeLength, Times = 1, Fault = Fault.TruncateAfter(70_000) });

        AssertIntactAndClose(await LoadAsync(ZstdKey));

        AssertResumed(Proxy.RequestsFor(PathOf(ZstdKey)), 70_000);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(50_000)]
    public async Task StalledBodyIsDroppedAfterTheStallTimeout(int afterBytes)
    {
        Proxy.Inject(new FaultRule { Path = PathOf(StoredKey), MinRangeLength = DataRangeLength, Times = 1, Fault = Fault.StallAfter(afterBytes, TimeSpan.FromSeconds(30)) });
        var clock = Stopwatch.StartNew();

        AssertIntactAndClose(await LoadAsync(StoredKey));

        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(5), $"not the 30 s stall: {clock.Elapsed.TotalSeconds:F1} s");
        var gets = Proxy.RequestsFor(PathOf(StoredKey));
        var stalled = gets.Single(r => r.Fault is not null);
        var again = gets.Single(r => r.At > stalled.At && r.RangeEnd == stalled.RangeEnd && r.RangeStart >= stalled.RangeStart);
        Assert.IsTrue(again.At - stalled.At >= QuickRetry.StallTimeout, $"asked again after the stall timeout: {(again.At - stalled.At).TotalMilliseconds:F0} ms");
        Assert.IsTrue(again.RangeStart <= stalled.RangeStart + afterBytes, again.ToString());
    }

    [TestMethod]
    public async Task PersistentInternalErrorFailsWithTheRangeWithinTheDeadlineAndLeavesNothingOpen()
    {
        // The production settings: four attempts per range, backoff under 0.2, 0.4 and 0.8 s.
        Proxy.Inject(new FaultRule { Path = PathOf(ZstdKey), MinRangeLength = DataRangeLength, Fault = Fault.InternalError });
        var before = TestArchives.OpenMemfds();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => LoadAsync(ZstdKey, S3RetrySettings.Default));

        clock.Stop();
        TestContext.WriteLine($"{clock.Elapsed.TotalSeconds:F2} s: {error.Message}");
        Assert.AreEqual(RuntimeErrorCodes.S3RangeFailed, error.Code);
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(4), $"well inside the 9 s deadline: {clock.Elapsed.TotalSeconds:F1} s");
        StringAssert.Contains(error.Message, $"s3://{Bucket}/{ZstdKey}");
        StringAssert.Contains(error.Message, $"bucket '{Bucket}', key '{ZstdKey}'");
        StringAssert.Contains(error.Message, "after 4 attempts");
        StringAssert.Contains(error.Message, "InternalError (HTTP 500)");
        var gets = Proxy.RequestsFor(PathOf(ZstdKey));
        var named = System.Text.RegularExpressions.Regex.Match(error.Message, @"^SNAP1025: Bytes (\d+)-(\d+) of ");
        Assert.IsTrue(named.Success, error.Message);
        var (start, end) = (long.Parse(named.Groups[1].Value), long.Parse(named.Groups[2].Value));
        Assert.AreEqual(4, gets.Count(r => r.RangeStart == start && r.RangeEnd == end && r.Status == 500), "four requests for the range, not four times the SDK's own retries");
        Assert.IsTrue(gets.GroupBy(r => r.RangeStart).All(g => g.Count() <= 4), "no range was asked more than four times");
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray(), "every memory file was closed");
    }

    [TestMethod]
    [DataRow("AccessDenied", RuntimeErrorCodes.S3AccessDenied, "s3:GetObject on resource arn:aws:s3:::snaploader-faults/faults/zstd.zip")]
    [DataRow("ExpiredToken", RuntimeErrorCodes.S3Failed, "AWS_SESSION_TOKEN")]
    [DataRow("NoSuchKey", RuntimeErrorCodes.S3NoSuchKey, "was not uploaded by the build")]
    [DataRow("NoSuchBucket", RuntimeErrorCodes.S3NoSuchBucket, "Check the bucket name, the region (us-east-1)")]
    public async Task AnswersThatWillNotChangeAreNotRetried(string answer, string code, string whatToCheck)
    {
        var (bucket, key) = answer switch
        {
            // s3rver's own answers, through the proxy.
            "NoSuchKey" => (Bucket, "faults/missing.zip"),
            "NoSuchBucket" => ("snaploader-no-such-bucket", ZstdKey),
            _ => (Bucket, ZstdKey),
        };
        if (answer is "AccessDenied" or "ExpiredToken")
        {
            Proxy.Inject(new FaultRule { Path = PathOf(key), Fault = answer == "AccessDenied" ? Fault.AccessDenied : Fault.ExpiredToken });
        }
        var clock = Stopwatch.StartNew();

        await using var source = S3ArchiveSource.Create(bucket, key, region: null, QuickRetry);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, s_fixture.Archives[ZstdKey].Files, null, Options, CancellationToken.None));

        TestContext.WriteLine(error.Message);
        Assert.AreEqual(code, error.Code);
        StringAssert.Contains(error.Message, $"s3://{bucket}/{key}");
        StringAssert.Contains(error.Message, answer);
        StringAssert.Contains(error.Message, whatToCheck);
        var requests = Proxy.Requests;
        Assert.AreEqual(1, requests.Count, "one request, no retry: " + string.Join("; ", requests));
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(2), $"{clock.Elapsed.TotalSeconds:F1} s");
    }

    [TestMethod]
    public async Task NoCredentialsFailBeforeAnyRequest()
    {
        using var env = new EnvironmentScope(S3rverServer.WithoutCredentials([], s_fixture.Folder));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => LoadAsync(ZstdKey));

        TestContext.WriteLine(error.Message);
        Assert.AreEqual(RuntimeErrorCodes.S3NoCredentials, error.Code);
        StringAssert.Contains(error.Message, $"s3://{Bucket}/{ZstdKey}");
        StringAssert.Contains(error.Message, "AWS_ACCESS_KEY_ID");
        Assert.AreEqual(0, Proxy.Requests.Count, "nothing was sent, and nothing was retried");
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(3), $"{clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Loads an archive through the proxy with the runtime's own client configuration.</summary>
    private static async Task<IReadOnlyList<LoadedFile>> LoadAsync(string key, S3RetrySettings? retry = null, LoaderSettings? options = null)
    {
        await using var source = S3ArchiveSource.Create(Bucket, key, region: null, retry ?? QuickRetry);
        return await ArchiveLoader.LoadAsync(source, s_fixture.Archives[key].Files, null, options ?? Options, CancellationToken.None);
    }

    /// <summary>How many distinct ranges were asked: the requests a load without faults makes.</summary>
    private static int Ranges(IReadOnlyList<ProxiedRequest> gets) => gets.Select(r => (r.RangeStart, r.RangeEnd)).Distinct().Count();

    /// <summary>
    /// Checks that the one broken range was resumed: a later GET for its rest, from past its start (the bytes that had
    /// arrived, at most <paramref name="relayed"/>) to the same end, answered 206, and nothing else asked twice.
    /// </summary>
    private static void AssertResumed(IReadOnlyList<ProxiedRequest> gets, long relayed)
    {
        var broken = gets.Single(r => r.Fault is not null);
        var resumed = gets.Where(r => r.At > broken.At && r.RangeEnd == broken.RangeEnd && r.RangeStart > broken.RangeStart).ToArray();
        Assert.AreEqual(1, resumed.Length, $"one resume of {broken}");
        Assert.AreEqual(206, resumed[0].Status);
        Assert.IsTrue(resumed[0].RangeStart <= broken.RangeStart + relayed, $"{resumed[0]} starts inside the part relayed before the fault");
        Assert.IsFalse(gets.Any(r => r != broken && r.RangeStart == broken.RangeStart && r.RangeEnd == broken.RangeEnd), "the range was not asked again from its start");
        Assert.AreEqual(Ranges(gets), gets.Count, "every other range once");
    }
}
