using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using SnapLoader.Benchmarks.Load.Methods;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Load;

/// <summary>
/// The <c>load</c> mode: for each payload, packs one archive with the build's writer, serves it from s3rver and from a
/// local file, runs every method in its own child process (one warm-up round, then the measured rounds; the methods
/// take turns within a round so that a busy machine slows them alike), and writes the table, chart and raw figures.
/// </summary>
internal static class LoadBenchmark
{
    public static async Task<int> RunAsync(LoadSettings settings, Action<string> progress)
    {
        var machine = MachineInfo.Read();
        progress($"{machine.Summary}; {settings.Runs} runs after {settings.WarmUps} warm-up; results in {settings.OutputFolder}");
        var work = TestPaths.NewTempFolder("load-benchmark");
        S3rverServer? server = null;
        ThrottlingProxy? proxy = null;
        try
        {
            var payloads = settings.Payloads.Select(id => id == "libtorch" ? Payload.LibTorch() : Payload.Onnx()).ToList();
            var archives = payloads.Select(p =>
            {
                var archive = BenchmarkArchive.Pack(p, work);
                progress($"packed {p.Title}: {archive.PayloadBytes / 1e6:F1} MB in {archive.Length / 1e6:F1} MB (zstd 3)");
                return (Payload: p, Archive: archive);
            }).ToList();

            var environments = new Dictionary<SourceKind, Dictionary<string, string?>> { [SourceKind.Local] = [] };
            if (settings.Sources.Any(s => s.IsS3()))
            {
                server = await S3rverServer.StartAsync().ConfigureAwait(false);
                await UploadAsync(server, archives.Select(a => a.Archive)).ConfigureAwait(false);
                proxy = ThrottlingProxy.Start(server.ServiceUrl, SourceKinds.ThrottledBytesPerSecond);
                environments[SourceKind.S3] = S3Environment(server, server.ServiceUrl);
                environments[SourceKind.S3Throttled] = S3Environment(server, proxy.ServiceUrl);
                progress($"s3rver at {server.ServiceUrl} holds the archives; {proxy.ServiceUrl} serves them at {SourceKinds.ThrottledBytesPerSecond / 1e6:F0} MB/s per connection");
            }

            var results = new List<MethodRuns>();
            foreach (var (payload, archive) in archives)
            {
                foreach (var source in settings.Sources)
                {
                    var runs = LoadMethod.Ids.ToDictionary(m => m, m => new MethodRuns(archive, payload.Title, source, m));
                    for (var round = 0; round < settings.WarmUps + settings.Runs; round++)
                    {
                        var warmUp = round < settings.WarmUps;
                        foreach (var method in LoadMethod.Ids)
                        {
                            var serverBefore = ServerProcessorTime(server);
                            var (result, log) = ChildProcess.Run(method, archive, source, environments[source]);
                            if (source.IsS3())
                            {
                                result = result with { ServerCpuSeconds = (ServerProcessorTime(server) - serverBefore).TotalSeconds };
                            }
                            progress(string.Create(CultureInfo.InvariantCulture,
                                $"{payload.Id} {source.Label()} {LoadMethod.Label(method)} {(warmUp ? "warm-up" : $"run {round - settings.WarmUps + 1}/{settings.Runs}")}: {result.Seconds:F2} s, peak RSS {result.PeakRssBytes / (double)(1 << 20):F0} MiB, anon+memfd {result.PeakAnonShmemBytes / (double)(1 << 20):F0} MiB"));
                            if (!warmUp)
                            {
                                runs[method].Add(result, log);
                            }
                        }
                    }
                    results.AddRange(runs.Values);
                }
            }

            machine = machine with { LoadAverageAfter = MachineInfo.LoadAverage() };
            Directory.CreateDirectory(settings.OutputFolder);
            var report = LoadReport.Markdown(settings, machine, results, "load.png");
            await File.WriteAllTextAsync(Path.Combine(settings.OutputFolder, "load.md"), report).ConfigureAwait(false);
            Chart.Save(results.Select(ChartPoint.Of).ToList(), Path.Combine(settings.OutputFolder, "load.png"));
            await File.WriteAllTextAsync(Path.Combine(settings.OutputFolder, "load.json"), RawJson(machine, results)).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(settings.OutputFolder, "load-stderr.log"), ChildLogs(results)).ConfigureAwait(false);
            progress("");
            progress(report);
            return 0;
        }
        finally
        {
            if (proxy is not null)
            {
                await proxy.DisposeAsync().ConfigureAwait(false);
            }
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The CPU time of s3rver and of this process (the throttling proxy runs here) so far.</summary>
    private static TimeSpan ServerProcessorTime(S3rverServer? server) =>
        (server?.ProcessorTime ?? TimeSpan.Zero) + System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Draws load.png again from a results folder's load.json, for a new chart style without measuring again.</summary>
    public static void Replot(string folder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "load.json")));
        var points = json.RootElement.GetProperty("results").EnumerateArray().Select(r =>
        {
            var runs = r.GetProperty("runs").EnumerateArray().ToList();
            return new ChartPoint(
                r.GetProperty("payload").GetString()!, r.GetProperty("payloadBytes").GetInt64(), SourceKinds.Parse(r.GetProperty("source").GetString()!),
                r.GetProperty("method").GetString()!,
                MethodRuns.Median(runs.Select(x => x.GetProperty(nameof(Measurement.Seconds)).GetDouble())),
                MethodRuns.Median(runs.Select(x => (double)x.GetProperty(nameof(Measurement.PeakAnonShmemBytes)).GetInt64())));
        }).ToList();
        Chart.Save(points, Path.Combine(folder, "load.png"));
    }

    // What the runtime and the readers need to reach s3rver (directly or through the proxy) as if it were S3.
    private static Dictionary<string, string?> S3Environment(S3rverServer server, string endpoint)
    {
        var variables = server.AwsVariables(endpoint);
        variables["AWS_EC2_METADATA_DISABLED"] = "true";
        return variables;
    }

    private static async Task UploadAsync(S3rverServer server, IEnumerable<BenchmarkArchive> archives)
    {
        await server.CreateBucketAsync(SourceKinds.Bucket).ConfigureAwait(false);
        using var client = server.CreateClient();
        foreach (var archive in archives)
        {
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = SourceKinds.Bucket,
                Key = archive.Key,
                FilePath = archive.Path,
                UseChunkEncoding = false,
            }).ConfigureAwait(false);
        }
    }

    private static string RawJson(MachineInfo machine, IEnumerable<MethodRuns> results) => JsonSerializer.Serialize(new
    {
        machine,
        results = results.Select(r => new
        {
            payload = r.Archive.PayloadId,
            payloadBytes = r.Archive.PayloadBytes,
            archiveBytes = r.Archive.Length,
            source = r.Source.ToString(),
            method = r.Method,
            runs = r.Runs,
        }),
    }, new JsonSerializerOptions { WriteIndented = true });

    // The standard error of each median run: the runtime's own stage lines for the table's figures.
    private static string ChildLogs(IEnumerable<MethodRuns> results)
    {
        var text = new StringBuilder();
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"== {r.Archive.PayloadId} {r.Source} {r.Method}, median run ({r.MedianSeconds:F3} s)");
            text.AppendLine(r.MedianLog);
        }
        return text.ToString();
    }
}
