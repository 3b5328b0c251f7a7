using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>One call the runtime made to the Runtime API of tools/lambda-run.sh, as the server recorded it.</summary>
internal sealed record RuntimeApiCall(string Method, string Path, DateTimeOffset Time, string? ErrorType, string? Body);

/// <summary>
/// One run of tools/lambda-run.sh: the function under the real Lambda runtime client (Amazon.Lambda.RuntimeSupport),
/// against a Runtime API on 127.0.0.1 that recorded every call.
/// </summary>
internal sealed partial class LambdaRun
{
    /// <summary>Lambda's limit on a deployment, unzipped, layers included.</summary>
    public const long DeploymentLimit = 262_144_000;

    private LambdaRun(int exitCode, string output, JsonNode result)
    {
        ExitCode = exitCode;
        Output = output;
        Result = result;
        Calls = result["calls"]!.AsArray().Select(c => new RuntimeApiCall(
            c!["method"]!.GetValue<string>(), c["path"]!.GetValue<string>(), c["time"]!.GetValue<DateTimeOffset>(),
            c["errorType"]?.GetValue<string>(), c["body"]?.GetValue<string>())).ToList();
    }

    /// <summary>lambda-run.sh's exit status: 0 when every invocation was answered.</summary>
    public int ExitCode { get; }

    /// <summary>Everything the run printed: the runtime's log, each Runtime API call, the responses.</summary>
    public string Output { get; }

    /// <summary>The Runtime API's record of the run.</summary>
    public JsonNode Result { get; }

    /// <summary>Every Runtime API call, in the order the server received them; paths without the API version.</summary>
    public IReadOnlyList<RuntimeApiCall> Calls { get; }

    /// <summary>The bodies the runtime posted as invocation responses, in order.</summary>
    public IReadOnlyList<string> Responses => Result["responses"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();

    /// <summary>The first invocation's response.</summary>
    public string Response => Responses.Count > 0 ? Responses[0] : throw new AssertFailedException("no invocation was answered:\n" + Output);

    /// <summary>Names of the memory files mapped into the function's process (its /proc/PID/maps, while it waited for the next event).</summary>
    public IReadOnlyList<string> MemfdMappings => Strings("memfdMappings");

    /// <summary>Names of the memory files open in the function's process (/proc/PID/fd): data files too, which are read, not mapped.</summary>
    public IReadOnlyList<string> MemfdDescriptors => Strings("memfdDescriptors");

    /// <summary>The files on disk mapped into the function's process (/proc/PID/maps): what it loaded from the deployment or the system.</summary>
    public IReadOnlyList<string> MappedFiles => Strings("mappedFiles");

    /// <summary>The paths the runtime called, in order, without the invocation ids.</summary>
    public IReadOnlyList<string> CallSequence => Calls.Select(c => c.Path.StartsWith("/runtime/invocation/", StringComparison.Ordinal) && c.Path != "/runtime/invocation/next"
        ? "/runtime/invocation/" + c.Path.Split('/')[^1]
        : c.Path).ToList();

    /// <summary>
    /// Whether SnapLoader's SnapStart hooks ran where the runtime runs them: its before-snapshot line before
    /// <c>restore/next</c>, its after-restore line after it and before the first invocation. Log lines carry the
    /// runtime's own timestamps, the calls the server's, on one clock.
    /// </summary>
    public bool SnapStartHooksRan
    {
        get
        {
            var restore = Calls.FirstOrDefault(c => c.Path == "/runtime/restore/next");
            var firstInvoke = Calls.FirstOrDefault(c => c.Path == "/runtime/invocation/next");
            var before = LogTime("before snapshot: memory files stay open");
            var after = LogTime("after restore: memory files verified, links in place");
            return restore is not null && firstInvoke is not null && before is not null && after is not null
                && Calls.ToList().IndexOf(restore) < Calls.ToList().IndexOf(firstInvoke)
                && before <= Ms(restore.Time) && after >= Ms(restore.Time) && after <= Ms(firstInvoke.Time);
        }
    }

    /// <summary>
    /// Runs <paramref name="handler"/> of <paramref name="publish"/> on <paramref name="eventFile"/> through
    /// tools/lambda-run.sh; unless <paramref name="expectSuccess"/> is false, fails the test when an invocation was not answered.
    /// </summary>
    public static LambdaRun Start(string publish, string handler, string eventFile, string? archives = null,
        IReadOnlyDictionary<string, string?>? environment = null, bool expectSuccess = true)
    {
        List<string> arguments = [Path.Combine(TestPaths.RepositoryRoot, "tools", "lambda-run.sh"), publish, handler, eventFile];
        if (archives is not null)
        {
            arguments.Add(archives);
        }
        var resultFile = Path.Combine(Path.GetDirectoryName(eventFile)!, $"runtime-api-{Guid.NewGuid():N}.json");
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>()) { ["SNAPLOADER_RUN_RESULT"] = resultFile };
        var run = ProcessRunner.Run("bash", arguments, Path.GetDirectoryName(eventFile)!, env);
        if (expectSuccess)
        {
            Assert.AreEqual(0, run.ExitCode, run.Output);
        }
        Assert.IsTrue(File.Exists(resultFile), "the Runtime API wrote no record:\n" + run.Output);
        return new LambdaRun(run.ExitCode, run.Output, JsonNode.Parse(File.ReadAllText(resultFile))!);
    }

    /// <summary>The size of a publish folder, which is what the deployment zip unpacks to.</summary>
    public static long DeploymentSize(string publish) =>
        Directory.EnumerateFiles(publish, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    // The runtime stamps each line: "2026-12-04T20:01:37.533Z\t<request id>\t<level>\t<message>" in the text format,
    // "timestamp" in the JSON format.
    private DateTimeOffset? LogTime(string text)
    {
        var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        var stamp = TimestampPattern().Match(line);
        return stamp.Success ? DateTimeOffset.Parse(stamp.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
    }

    // Log stamps have whole milliseconds; the server's times are cut to the same.
    private static DateTimeOffset Ms(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    private List<string> Strings(string name) => Result[name]!.AsArray().Select(m => m!.GetValue<string>()).ToList();

    [GeneratedRegex(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")]
    private static partial Regex TimestampPattern();
}
