using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.ColdStart;

/// <summary>
/// One cold start of a published function under tools/lambda-run.sh: a plain on-demand init (no SnapStart) and one
/// invocation, with the times the Runtime API recorded. Every time counts from the start of the runtime process: the
/// Runtime API restarts its clock just before it starts the sandbox script that execs, in the same process, into the
/// runtime's bootstrap (see tools/SnapLoader.RuntimeApi), so 0 is where Lambda's init begins.
/// </summary>
/// <param name="InitMs">Process start to the first <c>invocation/next</c>: the init is done.</param>
/// <param name="FirstResponseMs">Process start to the first <c>invocation/.../response</c>.</param>
/// <param name="MovedBytes">The bytes SnapLoader's <c>ready:</c> line reports; null without SnapLoader.</param>
/// <param name="SnapLoaderMs">The <c>ms</c> of that line: SnapLoader's load within the init.</param>
/// <param name="SessionMs">The function's <c>warmUpMs</c>: creating the ONNX session and its first run, in the constructor.</param>
/// <param name="Norm">The embedding's norm, so the two variants can be seen to answer alike.</param>
internal sealed partial record ColdStartRun(long InitMs, long FirstResponseMs, long? MovedBytes, long? SnapLoaderMs, long SessionMs, double Norm)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs the function once; throws with the run's output when it fails or its record lacks a time.</summary>
    public static (ColdStartRun Run, string Output) Measure(ColdStartFunction function, string resultFile)
    {
        var environment = new Dictionary<string, string?>(LocalFeed.ChildEnvironment)
        {
            ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand",
            ["SNAPLOADER_RUN_INVOKES"] = "1",
            ["SNAPLOADER_RUN_RESULT"] = resultFile,
            // The sample's template.yaml gives the function 2048 MB.
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "2048",
            // The caller's own settings must not reach the function: the wrapper comes from the publish folder, the
            // archive from the archive folder, the log format is Lambda's default.
            ["AWS_LAMBDA_EXEC_WRAPPER"] = null,
            ["SNAPLOADER_ARCHIVE"] = null,
            ["AWS_ENDPOINT_URL_S3"] = null,
            ["AWS_LAMBDA_LOG_FORMAT"] = null,
            ["AWS_LAMBDA_LOG_LEVEL"] = null,
        };
        string[] arguments = [Path.Combine(TestPaths.RepositoryRoot, "tools", "lambda-run.sh"), function.PublishFolder, ColdStartFunction.Handler, function.EventFile];
        if (function.ArchiveFolder is { } archives)
        {
            arguments = [.. arguments, archives];
        }
        File.Delete(resultFile);
        var output = ProcessRunner.Run("bash", arguments, TestPaths.RepositoryRoot, environment, s_timeout)
            .EnsureSuccess($"tools/lambda-run.sh for {function.Name}").Output;
        return (FromRecord(File.ReadAllText(resultFile), output, function.WithSnapLoader), output);
    }

    private static ColdStartRun FromRecord(string json, string output, bool withSnapLoader)
    {
        using var record = JsonDocument.Parse(json);
        var calls = record.RootElement.GetProperty("calls").EnumerateArray()
            .Select(c => (Method: c.GetProperty("method").GetString(), Path: c.GetProperty("path").GetString() ?? "", Ms: c.GetProperty("milliseconds").GetInt64()))
            .ToList();
        var next = calls.FirstOrDefault(c => c.Method == "GET" && c.Path == "/runtime/invocation/next");
        var response = calls.FirstOrDefault(c => c.Method == "POST" && c.Path.StartsWith("/runtime/invocation/", StringComparison.Ordinal) && c.Path.EndsWith("/response", StringComparison.Ordinal));
        if (next.Path is null || response.Path is null)
        {
            throw new InvalidOperationException($"The run's record has no invocation/next or no response:\n{json}\n{output}");
        }

        using var answer = JsonDocument.Parse(record.RootElement.GetProperty("responses")[0].GetString()!);
        var body = answer.RootElement;
        if (body.GetProperty("length").GetInt32() != 512 || body.GetProperty("createdDuringInvoke").GetBoolean())
        {
            throw new InvalidOperationException($"The function answered something else than an embedding made with the session of its init: {body}");
        }

        long? movedBytes = null, snapLoaderMs = null;
        if (withSnapLoader)
        {
            // "SnapLoader: ready: 3 files (94,123,456 bytes) from <archive> ms=312", in whatever form the runtime's
            // text log gives it; the thousands separator follows the culture.
            var ready = ReadyLine().Match(output);
            if (!ready.Success)
            {
                throw new InvalidOperationException($"No 'ready:' line from SnapLoader in the run's output:\n{output}");
            }
            movedBytes = long.Parse(new string(ready.Groups["bytes"].Value.Where(char.IsAsciiDigit).ToArray()), CultureInfo.InvariantCulture);
            snapLoaderMs = long.Parse(ready.Groups["ms"].Value, CultureInfo.InvariantCulture);
        }
        return new ColdStartRun(next.Ms, response.Ms, movedBytes, snapLoaderMs, body.GetProperty("warmUpMs").GetInt64(), body.GetProperty("norm").GetDouble());
    }

    [GeneratedRegex(@"ready: \d+ files \((?<bytes>[\d.,\u00a0\u202f ]+) bytes\).*?ms=(?<ms>\d+)")]
    private static partial Regex ReadyLine();
}
