using System.Globalization;
using System.Text;
using SnapLoader.Benchmarks.Load.Methods;

namespace SnapLoader.Benchmarks.Load;

/// <summary>The Markdown report of a <c>load</c> run: figures, ratios against the issue's targets, and the runtime's log.</summary>
internal static class LoadReport
{
    private const double MiB = 1 << 20;

    // The targets of issue 13, set for the libtorch payload: against the work floor from the local file, against the
    // larger of the network and work floors, and against the baselines, at 85 MB/s per connection.
    private const double WorkFloorTarget = 1.25;
    private const double FloorRatioTarget = 1.3;
    private const double WholeObjectTarget = 2.5;
    private const double TmpTarget = 2.2;
    private const double BeyondPayloadTargetMiB = 64;

    public static string Markdown(LoadSettings settings, MachineInfo machine, IReadOnlyList<MethodRuns> results, string chartFile)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Measured {DateTime.Now:yyyy-MM-dd HH:mm} on {machine.Summary}."));
        text.AppendLine(Invariant($"Load average (1/5/15 min) before: {machine.LoadAverageBefore}, after: {machine.LoadAverageAfter}."));
        text.AppendLine(Invariant($"Each figure is the median of {settings.Runs} runs, each in a fresh process, after {settings.WarmUps} warm-up round(s); the methods take turns within a round."));
        text.AppendLine();
        text.AppendLine("| Payload | Archive | Files |");
        text.AppendLine("|---|---:|---|");
        foreach (var archive in results.Select(r => r.Archive).DistinctBy(a => a.PayloadId))
        {
            text.AppendLine(Invariant($"| {archive.PayloadId}: {archive.PayloadBytes / 1e6:F1} MB | {archive.Length / 1e6:F1} MB (zstd 3) | {string.Join(", ", archive.Entries.Select(e => e.Name))} |"));
        }
        text.AppendLine();

        text.AppendLine("| Payload | Source | Method | Time (s) | Fastest-slowest (s) | CPU (s) | Server CPU (s) | Peak RSS (MiB) | Peak anon + memfd (MiB) | Beyond payload (MiB) |");
        text.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            // The floors hold extra copies on purpose, and /tmp's files sit in the page cache, which this does not count.
            var beyond = IsFloor(r.Method) || r.Method == "tmp" ? "-" : Invariant($"{r.MedianBeyondPayload / MiB:F0}");
            text.AppendLine(Invariant($"| {r.Archive.PayloadId} | {r.Source.Label()} | {LoadMethod.Label(r.Method)} | {r.MedianSeconds:F2} | {r.MinSeconds:F2}-{r.MaxSeconds:F2} | {r.MedianCpuSeconds:F2} | {(r.Source.IsS3() ? Invariant($"{r.MedianServerCpuSeconds:F2}") : "-")} | {r.MedianPeakRss / MiB:F0} | {r.MedianPeakAnonShmem / MiB:F0} | {beyond} |"));
        }
        text.AppendLine();
        text.AppendLine(Invariant($"![Time and memory per method]({chartFile})"));
        text.AppendLine();

        text.AppendLine("Ratios of medians; ✓/✗ against the issue's targets (speed-up and memory targets apply to libtorch).");
        text.AppendLine();
        text.AppendLine(Invariant($"| Payload | Source | 3 ÷ 0, target ≤ {WorkFloorTarget} (local file) | 3 ÷ max(0, 1), target ≤ {FloorRatioTarget} (85 MB/s) | 3 ÷ shared-core floor | 3 ÷ max(1, 2) | 3b − 3: dlopen (s) | 3c ÷ 3: ZstdSharp ÷ libzstd | 4 ÷ 3, target ≥ {WholeObjectTarget} (85 MB/s) | 5 ÷ 3, target ≥ {TmpTarget} (85 MB/s) | 3 beyond payload (MiB), target ≤ {BeyondPayloadTargetMiB} (S3) | 3b beyond payload (MiB) | 4 beyond payload (MiB) |"));
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|---|---|---|---:|---:|");
        foreach (var group in results.GroupBy(r => (r.Archive.PayloadId, r.Source)))
        {
            var by = group.ToDictionary(r => r.Method);
            var snap = by["snaploader"];
            var network = by["network-floor"].MedianSeconds;
            var memory = by["memory-floor"].MedianSeconds;
            var floor = Math.Max(network, memory);
            var libtorch = group.Key.PayloadId == "libtorch";
            var work = by["work-floor"].MedianSeconds;
            var throttled = group.Key.Source == SourceKind.S3Throttled;
            var workCell = Judged(snap.MedianSeconds / work, r => r <= WorkFloorTarget, libtorch && group.Key.Source == SourceKind.Local) + Invariant($" ({work:F2} s)");
            var networkOrWork = Math.Max(network, work);
            var networkOrWorkCell = Judged(snap.MedianSeconds / networkOrWork, r => r <= FloorRatioTarget, libtorch && throttled) +
                Invariant($" ({(network >= work ? "network" : "work")}, {networkOrWork:F2} s)");
            var floorCell = Invariant($"{snap.MedianSeconds / floor:F2} ({(network >= memory ? "network" : "memory")}, {floor:F2} s)");
            // On this machine the network floor's work (the SDK's, s3rver's, the proxy's) and the work floor's share the
            // same cores, so they cannot both finish by the larger of the two: at best all of their CPU time spread over
            // every core.
            var sharedCore = (by["work-floor"].MedianCpuSeconds + by["network-floor"].MedianCpuSeconds + by["network-floor"].MedianServerCpuSeconds) / Environment.ProcessorCount;
            var sharedCoreCell = Invariant($"{snap.MedianSeconds / Math.Max(sharedCore, networkOrWork):F2} ({Math.Max(sharedCore, networkOrWork):F2} s)");
            var dlopen = by["snaploader-dlopen"].MedianSeconds - snap.MedianSeconds;
            var wholeObject = Judged(by["whole-object"].MedianSeconds / snap.MedianSeconds, r => r >= WholeObjectTarget, libtorch && throttled);
            var tmp = Judged(by["tmp"].MedianSeconds / snap.MedianSeconds, r => r >= TmpTarget, libtorch && throttled);
            var snapMemory = Judged(snap.MedianBeyondPayload / MiB, m => m <= BeyondPayloadTargetMiB, libtorch && group.Key.Source.IsS3(), "F0");
            text.AppendLine(Invariant(
                $"| {group.Key.PayloadId} | {group.Key.Source.Label()} | {workCell} | {networkOrWorkCell} | {sharedCoreCell} | {floorCell} | {dlopen:+0.00;-0.00} | {by["snaploader-managed"].MedianSeconds / snap.MedianSeconds:F2} | {wholeObject} | {tmp} | {snapMemory} | {by["snaploader-dlopen"].MedianBeyondPayload / MiB:F0} | {by["whole-object"].MedianBeyondPayload / MiB:F0} |"));
        }
        text.AppendLine();

        text.AppendLine("SnapLoader's own log lines (standard error) of the median runs of methods 3, 3b and 3c:");
        text.AppendLine();
        text.AppendLine("```text");
        foreach (var r in results.Where(r => r.Method is "snaploader" or "snaploader-dlopen" or "snaploader-managed"))
        {
            text.AppendLine(Invariant($"# {LoadMethod.Label(r.Method)}, {r.Archive.PayloadId}, {r.Source.Label()}, {r.MedianSeconds:F2} s"));
            foreach (var line in r.MedianLog.Split('\n').Select(l => l.TrimEnd()).Where(l => l.StartsWith("SnapLoader", StringComparison.Ordinal) && !l.Contains("preload shim is not loaded", StringComparison.Ordinal)))
            {
                text.AppendLine(line);
            }
        }
        text.AppendLine("```");
        return text.ToString();
    }

    private static bool IsFloor(string method) => method.EndsWith("-floor", StringComparison.Ordinal);

    private static string Judged(double value, Func<double, bool> met, bool applies, string format = "F2")
    {
        var formatted = value.ToString(format, CultureInfo.InvariantCulture);
        return applies ? $"{formatted} {(met(value) ? "✓" : "✗")}" : formatted;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
