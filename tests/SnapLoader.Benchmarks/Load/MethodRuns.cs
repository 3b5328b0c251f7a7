namespace SnapLoader.Benchmarks.Load;

/// <summary>The measured runs (warm-up excluded) of one method on one payload from one source, with each run's log.</summary>
internal sealed class MethodRuns(BenchmarkArchive archive, string payloadTitle, SourceKind source, string method)
{
    private readonly List<(Measurement Result, string Log)> _runs = [];

    public BenchmarkArchive Archive => archive;
    public string PayloadTitle => payloadTitle;
    public SourceKind Source => source;
    public string Method => method;
    public IReadOnlyList<Measurement> Runs => _runs.Select(r => r.Result).ToList();

    public void Add(Measurement result, string log) => _runs.Add((result, log));

    public double MedianSeconds => Median(_runs.Select(r => r.Result.Seconds));
    public double MinSeconds => _runs.Min(r => r.Result.Seconds);
    public double MaxSeconds => _runs.Max(r => r.Result.Seconds);
    public double MedianCpuSeconds => Median(_runs.Select(r => r.Result.CpuSeconds));
    public double MedianServerCpuSeconds => Median(_runs.Select(r => r.Result.ServerCpuSeconds));
    public double MedianPeakRss => Median(_runs.Select(r => (double)r.Result.PeakRssBytes));
    public double MedianPeakAnonShmem => Median(_runs.Select(r => (double)r.Result.PeakAnonShmemBytes));

    /// <summary>Peak anonymous + memfd memory minus the payload's own bytes: what the method costs on top of the result.</summary>
    public double MedianBeyondPayload => MedianPeakAnonShmem - archive.PayloadBytes;

    /// <summary>The standard error of the run whose time is the median (the lower one of the middle two for an even count).</summary>
    public string MedianLog => _runs.OrderBy(r => r.Result.Seconds).ElementAt((_runs.Count - 1) / 2).Log;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
