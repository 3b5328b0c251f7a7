using System.Text.Json;

namespace SnapLoader.Benchmarks.Load;

/// <summary>What one child process measured for one method.</summary>
/// <param name="Seconds">Wall time of the method alone: not the process start, nor the untimed preparation.</param>
/// <param name="PeakRssBytes">VmHWM of the child at the end.</param>
/// <param name="PeakAnonShmemBytes">Highest RssAnon + memfd bytes sampled (see <see cref="MemoryProbe"/>).</param>
/// <param name="Samples">How many memory samples were taken while the method ran.</param>
/// <param name="CpuSeconds">
/// User and system time the child's threads spent while the method ran: with the wall time, how much of two cores the
/// method itself used; the rest went to waiting, or to s3rver and the throttling proxy on the same cores.
/// </param>
/// <param name="ServerCpuSeconds">
/// Set by the parent: the CPU time s3rver and the parent (whose throttling proxy copies every byte) used while the child
/// ran, on the same two cores. Real S3 costs the function nothing of the kind.
/// </param>
internal sealed record Measurement(double Seconds, long PeakRssBytes, long PeakAnonShmemBytes, int Samples, double CpuSeconds, double ServerCpuSeconds = 0)
{
    private const string Prefix = "RESULT ";

    /// <summary>The line a child prints on standard output.</summary>
    public string ToLine() => Prefix + JsonSerializer.Serialize(this);

    /// <summary>Finds the child's result line in its standard output.</summary>
    public static Measurement? FromOutput(string output) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal)) is { } line
            ? JsonSerializer.Deserialize<Measurement>(line[Prefix.Length..])
            : null;
}
