using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SnapLoader.Benchmarks.Load;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.ColdStart;

/// <summary>
/// The <c>coldstart</c> mode: the cold start a user sees, under the real runtime. samples/OnnxEmbedding is published
/// twice through the packages packed from this repository, once with SnapLoader and once with SnapLoader switched off
/// (every file left in the deployment: 121 MB fits), and each is started alternately through tools/lambda-run.sh as
/// an on-demand init followed by one invocation. The figures are the Runtime API's times from process start to the
/// first <c>invocation/next</c> (init done) and to the first response.
/// </summary>
internal static class ColdStartBenchmark
{
    public const string Usage = "coldstart [--runs N] [--out FOLDER]   (default 5 runs, artifacts/benchmarks/<date>)";

    public static int Run(IReadOnlyList<string> arguments, Action<string> progress)
    {
        if (BenchmarkArguments.Parse(arguments, defaultRuns: 5, Usage) is not { } parsed)
        {
            return 2;
        }
        var (runs, output) = (parsed.Runs, parsed.OutputFolder);

        var clock = Stopwatch.StartNew();
        var machine = MachineInfo.Read();
        progress($"{machine.Summary}; load average {machine.LoadAverageBefore}; {runs} rounds after a warm-up");
        // Outside the repository: a copy of the sample under it would take the repository's own build settings.
        var root = TestPaths.NewTempFolder("coldstart-benchmark");
        try
        {
            ColdStartFunction.WriteSharedSettings(root, LocalFeed.Pack(root));
            var snap = ColdStartFunction.Create("with SnapLoader", Path.Combine(root, "snaploader"), withSnapLoader: true);
            var plain = ColdStartFunction.Create("files left in the deployment", Path.Combine(root, "plain"), withSnapLoader: false);
            foreach (var function in new[] { snap, plain })
            {
                var seconds = function.Publish();
                progress(Invariant($"published {function.Name} in {seconds:F1} s: deployment {function.DeploymentBytes() / 1e6:F1} MB"));
            }

            // The warm-up round builds the tools on first use and brings both deployments into the page cache; it is
            // not counted. The variants take turns, so a machine that gets busier slows both alike.
            var figures = new Dictionary<ColdStartFunction, List<(ColdStartRun Run, string Output)>> { [snap] = [], [plain] = [] };
            for (var round = -1; round < runs; round++)
            {
                foreach (var function in new[] { plain, snap })
                {
                    var (run, log) = ColdStartRun.Measure(function, Path.Combine(root, "result.json"));
                    progress(Invariant($"{(round < 0 ? "warm-up" : $"round {round + 1}/{runs}")} {function.Name}: init {run.InitMs} ms, first response {run.FirstResponseMs} ms{(run.SnapLoaderMs is { } load ? $" (SnapLoader {load} ms)" : "")}"));
                    if (round >= 0)
                    {
                        figures[function].Add((run, log));
                    }
                }
            }
            if (figures[snap].Concat(figures[plain]).Select(f => f.Run.Norm).Distinct().Count() != 1)
            {
                throw new InvalidOperationException("The two variants answered with different embeddings.");
            }

            var report = Report(machine, runs, snap, plain, figures[snap].Select(f => f.Run).ToList(), figures[plain].Select(f => f.Run).ToList(), clock.Elapsed);
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "coldstart.md"), report);
            File.WriteAllText(Path.Combine(output, "coldstart.json"), JsonSerializer.Serialize(
                new { withSnapLoader = figures[snap].Select(f => f.Run), filesLeftInDeployment = figures[plain].Select(f => f.Run) },
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            // The output of each variant's median run: SnapLoader's phase lines and the runtime's own.
            File.WriteAllText(Path.Combine(output, "coldstart.log"), string.Concat(new[] { snap, plain }.Select(f =>
                $"# {f.Name}, median run\n{figures[f].OrderBy(r => r.Run.FirstResponseMs).ElementAt((runs - 1) / 2).Output}\n")));
            progress("");
            progress(report);
            progress($"written to {output}");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Report(MachineInfo machine, int runs, ColdStartFunction snap, ColdStartFunction plain, List<ColdStartRun> snapRuns, List<ColdStartRun> plainRuns, TimeSpan took)
    {
        static double Median(IEnumerable<long> values) => MethodRuns.Median(values.Select(v => (double)v));
        static string Spread(IEnumerable<long> values) => Invariant($"{values.Min()}-{values.Max()}");

        var moved = snapRuns.Select(r => r.MovedBytes!.Value).Distinct().Single();
        var initDifference = Median(snapRuns.Select(r => r.InitMs)) - Median(plainRuns.Select(r => r.InitMs));
        var responseDifference = Median(snapRuns.Select(r => r.FirstResponseMs)) - Median(plainRuns.Select(r => r.FirstResponseMs));
        var per100 = moved / 1e6 / 100;

        var text = new StringBuilder();
        text.AppendLine(Invariant($"Measured {DateTime.Now:yyyy-MM-dd HH:mm} on {machine.Summary}; `nproc` {Environment.ProcessorCount}; load average before {machine.LoadAverageBefore}, after {MachineInfo.LoadAverage()}; the whole command took {took.TotalMinutes:F1} min."));
        text.AppendLine(Invariant($"samples/OnnxEmbedding under tools/lambda-run.sh, `AWS_LAMBDA_INITIALIZATION_TYPE=on-demand`, one invocation; median of {runs} runs per variant after a warm-up round, the variants alternating. Times in ms from the start of the runtime process."));
        text.AppendLine();
        text.AppendLine("| Variant | Deployment (MB) | Moved (MB) | Init: start to first next (ms) | min-max | Start to first response (ms) | min-max | SnapLoader load (ms) | ONNX session at init (ms) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (function, list) in new[] { (snap, snapRuns), (plain, plainRuns) })
        {
            text.AppendLine(Invariant($"| {function.Name} | {function.DeploymentBytes() / 1e6:F1} | {(function.WithSnapLoader ? (moved / 1e6).ToString("F1", CultureInfo.InvariantCulture) : "-")} | {Median(list.Select(r => r.InitMs)):F0} | {Spread(list.Select(r => r.InitMs))} | {Median(list.Select(r => r.FirstResponseMs)):F0} | {Spread(list.Select(r => r.FirstResponseMs))} | {(function.WithSnapLoader ? Median(list.Select(r => r.SnapLoaderMs!.Value)).ToString("F0", CultureInfo.InvariantCulture) : "-")} | {Median(list.Select(r => r.SessionMs)):F0} |"));
        }
        text.AppendLine(Invariant($"| difference | | | {initDifference:+0;-0} | | {responseDifference:+0;-0} | | | |"));
        text.AppendLine(Invariant($"| added per 100 MB moved | | | {initDifference / per100:+0;-0} | | {responseDifference / per100:+0;-0} | | | |"));
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
