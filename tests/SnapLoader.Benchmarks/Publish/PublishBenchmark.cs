using System.Globalization;
using System.Text;
using SnapLoader.Benchmarks.Load;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Publish;

/// <summary>
/// The <c>publish</c> mode: the build-side cost of SnapLoader on a TorchSharp-cpu function. Two copies of the same
/// project, one without SnapLoader.Build and one with it, are published alternately: once after removing bin/ and
/// obj/Release/ (a publish from scratch, restore excluded), then again with nothing changed (the developer's loop).
/// </summary>
internal static class PublishBenchmark
{
    public const string Usage = "publish [--runs N] [--out FOLDER]   (default 3 runs, artifacts/benchmarks/<date>)";

    public static int Run(IReadOnlyList<string> arguments, Action<string> progress)
    {
        if (BenchmarkArguments.Parse(arguments, defaultRuns: 3, Usage) is not { } parsed)
        {
            return 2;
        }
        var (runs, output) = (parsed.Runs, parsed.OutputFolder);

        var machine = MachineInfo.Read();
        progress($"{machine.Summary}; {runs} rounds after a warm-up");
        var root = TestPaths.NewTempFolder("publish-benchmark");
        try
        {
            var feed = LocalFeed.Pack(root);
            var plain = PublishProject.Create(Path.Combine(root, "plain"), feed, withSnapLoader: false);
            var snap = PublishProject.Create(Path.Combine(root, "snaploader"), feed, withSnapLoader: true);
            plain.Restore();
            snap.Restore();
            progress($"packed SnapLoader.Build {feed.Version}, restored both projects");

            // The first publishes pay for starting and warming MSBuild's nodes; they are not counted.
            var times = new Dictionary<string, List<double>> { ["plain-cold"] = [], ["plain-again"] = [], ["snap-cold"] = [], ["snap-again"] = [] };
            for (var round = -1; round < runs; round++)
            {
                foreach (var (project, name) in new[] { (plain, "plain"), (snap, "snap") })
                {
                    project.Clean();
                    var cold = project.Publish();
                    var again = project.Publish();
                    progress(string.Create(CultureInfo.InvariantCulture, $"{(round < 0 ? "warm-up" : $"round {round + 1}/{runs}")} {name}: from scratch {cold:F1} s, again {again:F1} s"));
                    if (round >= 0)
                    {
                        times[$"{name}-cold"].Add(cold);
                        times[$"{name}-again"].Add(again);
                    }
                }
            }

            var archive = Directory.GetFiles(Path.Combine(snap.Directory, "bin", "Release", "net10.0", "linux-x64", "snaploader"), "*.zip").Single();
            var report = Report(machine, runs, times, plain.PublishedBytes(), snap.PublishedBytes(), new FileInfo(archive).Length);
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "publish.md"), report);
            progress("");
            progress(report);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Report(MachineInfo machine, int runs, Dictionary<string, List<double>> times, long plainBytes, long snapBytes, long archiveBytes)
    {
        double M(string key) => MethodRuns.Median(times[key]);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Measured {DateTime.Now:yyyy-MM-dd HH:mm} on {machine.Summary}; load average before {machine.LoadAverageBefore}, after {MachineInfo.LoadAverage()}."));
        text.AppendLine(Invariant($"TorchSharp-cpu {PublishProject.TorchSharpVersion}, `dotnet publish -c Release -r linux-x64 --self-contained false --no-restore`; median of {runs} rounds after a warm-up round."));
        text.AppendLine();
        text.AppendLine("| Project | Publish from scratch (s) | Second publish, nothing changed (s) | Deployment (MB) | Archive (MB) |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        text.AppendLine(Invariant($"| without SnapLoader | {M("plain-cold"):F1} | {M("plain-again"):F1} | {plainBytes / 1e6:F1} | - |"));
        text.AppendLine(Invariant($"| with SnapLoader | {M("snap-cold"):F1} | {M("snap-again"):F1} | {snapBytes / 1e6:F1} | {archiveBytes / 1e6:F1} |"));
        text.AppendLine(Invariant($"| difference | {M("snap-cold") - M("plain-cold"):+0.0;-0.0} | {M("snap-again") - M("plain-again"):+0.0;-0.0} {(M("snap-again") - M("plain-again") < 2 ? "✓" : "✗")} (target < 2 s) | | |"));
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
