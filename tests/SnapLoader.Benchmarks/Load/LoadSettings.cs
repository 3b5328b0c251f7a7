using System.Globalization;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Load;

/// <summary>The command line of the <c>load</c> mode.</summary>
internal sealed record LoadSettings(
    IReadOnlyList<string> Payloads, IReadOnlyList<SourceKind> Sources, int Runs, int WarmUps, string OutputFolder, bool Smoke)
{
    public const string Usage =
        "load [--smoke] [--runs N] [--out FOLDER] [--payload libtorch|onnx] [--source local|s3|s3throttled]\n" +
        "  --smoke    ONNX payload, local file, one run, no warm-up: a quick check that every method works\n" +
        "  --runs N   measured runs per method after one warm-up run (default 5)\n" +
        "  --out      results folder (default artifacts/benchmarks/<date>)";

    /// <summary>Parses the arguments after <c>load</c>; throws <see cref="ArgumentException"/> with what is wrong.</summary>
    public static LoadSettings Parse(IReadOnlyList<string> arguments)
    {
        var smoke = false;
        int? runs = null;
        string? output = null;
        var payloads = new List<string>();
        var sources = new List<SourceKind>();
        for (var i = 0; i < arguments.Count; i++)
        {
            string Value() => i + 1 < arguments.Count ? arguments[++i] : throw new ArgumentException($"{arguments[i]} needs a value.");
            switch (arguments[i])
            {
                case "--smoke":
                    smoke = true;
                    break;
                case "--runs":
                    runs = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                        ? n : throw new ArgumentException("--runs needs a positive number.");
                    break;
                case "--out":
                    output = Path.GetFullPath(Value());
                    break;
                case "--payload":
                    var payload = Value();
                    payloads.Add(payload is "libtorch" or "onnx" ? payload : throw new ArgumentException($"Unknown payload '{payload}'."));
                    break;
                case "--source":
                    sources.Add(SourceKinds.Parse(Value()));
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arguments[i]}'.");
            }
        }

        if (smoke)
        {
            // Small enough for CI: the smaller payload, no s3rver, each method once.
            payloads = payloads.Count == 0 ? ["onnx"] : payloads;
            sources = sources.Count == 0 ? [SourceKind.Local] : sources;
        }
        return new LoadSettings(
            payloads.Count == 0 ? ["libtorch", "onnx"] : payloads.Distinct().ToList(),
            sources.Count == 0 ? [SourceKind.S3, SourceKind.S3Throttled, SourceKind.Local] : sources.Distinct().ToList(),
            runs ?? (smoke ? 1 : 5),
            smoke ? 0 : 1,
            output ?? Path.Combine(TestPaths.RepositoryRoot, "artifacts", "benchmarks", DateTime.Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            smoke);
    }
}
