using System.Collections.Concurrent;
using SnapLoader.Build.Tasks.S3;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class S3UploadProgressTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void EveryTenthIsLoggedOnceWithSizeRateAndPercent()
    {
        var lines = new List<string>();
        using var progress = new UploadProgress(1_000_000, slots: 2, "s3://b/k", lines.Add, TimeSpan.FromHours(1));

        for (var sent = 0; sent <= 500_000; sent += 10_000)
        {
            progress.Report(0, sent);
            progress.Report(1, sent);
        }
        progress.Finish();

        CollectionAssert.AreEqual(
            new[] { "(10%)", "(20%)", "(30%)", "(40%)", "(50%)", "(60%)", "(70%)", "(80%)", "(90%)" },
            lines.SkipLast(1).Select(l => l[l.IndexOf('(')..(l.IndexOf(')') + 1)]).ToArray(),
            string.Join("\n", lines));
        Assert.StartsWith("Uploading s3://b/k: 0.1 of 1.0 MB (10%), ", lines[0]);
        Assert.EndsWith(" MB/s.", lines[0]);
        Assert.StartsWith("Uploaded s3://b/k: 1.0 MB in ", lines[^1]);
    }

    [TestMethod]
    public void RetriedPartCountsFromZeroAgain()
    {
        var lines = new List<string>();
        using var progress = new UploadProgress(1000, slots: 2, "s3://b/k", lines.Add, TimeSpan.FromHours(1));

        progress.Report(0, 450);
        progress.Report(0, 0);
        progress.Report(1, 150);
        progress.Report(0, 450);

        // 45%, then back to 15% (no line), then 60%: a retry replaces what its part had sent, never adds to it.
        Assert.HasCount(2, lines, string.Join("\n", lines));
        Assert.Contains("(45%)", lines[0]);
        Assert.Contains("(60%)", lines[1]);
    }

    [TestMethod]
    public async Task StalledUploadStillLogsEveryInterval()
    {
        var lines = new ConcurrentQueue<string>();
        using (var progress = new UploadProgress(1000, slots: 1, "s3://b/k", lines.Enqueue, TimeSpan.FromMilliseconds(50)))
        {
            progress.Report(0, 10);
            await Task.Delay(400, TestContext.CancellationToken);
        }
        var countAtDispose = lines.Count;
        await Task.Delay(200, TestContext.CancellationToken);

        Assert.IsGreaterThanOrEqualTo(3, countAtDispose, string.Join("\n", lines));
        Assert.IsTrue(lines.All(l => l.Contains("0.0 of 0.0 MB (1%)", StringComparison.Ordinal)), string.Join("\n", lines));
        Assert.HasCount(countAtDispose, lines);
    }
}
