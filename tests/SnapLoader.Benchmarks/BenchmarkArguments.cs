using System.Globalization;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks;

/// <summary>The arguments the publish and coldstart modes share: <c>[--runs N] [--out FOLDER]</c>.</summary>
/// <param name="Runs">Measured rounds, after one warm-up round.</param>
/// <param name="OutputFolder">Where the results go; by default artifacts/benchmarks/&lt;date&gt;.</param>
internal sealed record BenchmarkArguments(int Runs, string OutputFolder)
{
    /// <summary>The arguments, or <see langword="null"/> after printing <paramref name="usage"/> when one is not understood.</summary>
    public static BenchmarkArguments? Parse(IReadOnlyList<string> arguments, int defaultRuns, string usage)
    {
        var parsed = new BenchmarkArguments(defaultRuns,
            Path.Combine(TestPaths.RepositoryRoot, "artifacts", "benchmarks", DateTime.Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        for (var i = 0; i < arguments.Count; i++)
        {
            switch (arguments[i])
            {
                case "--runs" when i + 1 < arguments.Count && int.TryParse(arguments[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    parsed = parsed with { Runs = n };
                    i++;
                    break;
                case "--out" when i + 1 < arguments.Count:
                    parsed = parsed with { OutputFolder = Path.GetFullPath(arguments[++i]) };
                    break;
                default:
                    Console.Error.WriteLine($"usage: SnapLoader.Benchmarks {usage}");
                    return null;
            }
        }
        return parsed;
    }
}
