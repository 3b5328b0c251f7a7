using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SnapLoader.RuntimeApi;

// Usage: SnapLoader.RuntimeApi [--event FILE] [--invokes N] [--result FILE] [--timeout SECONDS] [--before-restore SHELL]
//                               -- COMMAND [ARGS...]
// Starts a Runtime API on 127.0.0.1, runs COMMAND (the runtime's bootstrap) with AWS_LAMBDA_RUNTIME_API set to it,
// hands it the event N times (default 2), and stops the runtime once it waits for an event after the last. Prints
// each call as it comes and the responses at the end; --result writes everything as one JSON document. Exits 0 when
// every invocation got a response, 1 otherwise (an init error, an invocation error, a runtime that exited).
// --before-restore runs a shell command while restore/next waits, as a change to the environment during its snapshot.
var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: SnapLoader.RuntimeApi [--event FILE] [--invokes N] [--result FILE] [--timeout SECONDS] [--before-restore SHELL] -- COMMAND [ARGS...]");
    return 2;
}

var eventBytes = options.EventFile is null ? "{}"u8.ToArray() : File.ReadAllBytes(options.EventFile);
var functionName = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME") ?? "snaploader-local";
await using var server = await RuntimeApiServer.StartAsync(Enumerable.Repeat(eventBytes, options.Invokes), functionName, TimeSpan.FromSeconds(30));
var console = new object();
server.OnCall = call =>
{
    lock (console)
    {
        Console.Error.WriteLine($"runtime-api: {call.Method} {call.Path} at {call.Milliseconds} ms{(call.ErrorType is null ? "" : $" ({call.ErrorType})")}");
    }
};

if (options.BeforeRestore is { } beforeRestore)
{
    server.BeforeRestore = async () =>
    {
        using var shell = Process.Start("bash", ["-c", beforeRestore]);
        await shell.WaitForExitAsync();
    };
}

var start = new ProcessStartInfo(options.Command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
foreach (var argument in options.Command.Skip(1))
{
    start.ArgumentList.Add(argument);
}
start.Environment["AWS_LAMBDA_RUNTIME_API"] = server.Address;
using var runtime = new Process { StartInfo = start };
runtime.OutputDataReceived += (_, e) => Forward(Console.Out, e.Data);
runtime.ErrorDataReceived += (_, e) => Forward(Console.Error, e.Data);

// Read while the runtime waits for the event after the last one, so the process is whole and at rest.
string[] mappings = [], descriptors = [], files = [];
server.OnIdle = () =>
{
    mappings = ProcessInspection.MemfdMappings(runtime.Id);
    files = ProcessInspection.MappedFiles(runtime.Id);
    descriptors = ProcessInspection.MemfdDescriptors(runtime.Id);
};

server.RestartClock();
runtime.Start();
runtime.BeginOutputReadLine();
runtime.BeginErrorReadLine();
var exited = runtime.WaitForExitAsync();
var finished = await Task.WhenAny(server.Idle, exited, Task.Delay(TimeSpan.FromSeconds(options.TimeoutSeconds)));
int? exitCode = null;
if (finished == exited)
{
    exitCode = runtime.ExitCode;
}
else
{
    runtime.Kill(entireProcessTree: true);
}
await runtime.WaitForExitAsync();

var calls = server.Calls;
var responses = calls.Where(c => c.Path.EndsWith("/response", StringComparison.Ordinal)).Select(c => c.Body ?? "").ToList();
var complete = finished == server.Idle && responses.Count == options.Invokes;
var result = new
{
    complete,
    timedOut = finished != server.Idle && finished != exited,
    exitCode,
    calls,
    responses,
    memfdMappings = mappings,
    memfdDescriptors = descriptors,
    mappedFiles = files,
};
if (options.ResultFile is not null)
{
    File.WriteAllText(options.ResultFile, JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
}
lock (console)
{
    for (var i = 0; i < responses.Count; i++)
    {
        Console.WriteLine($"response {i + 1}: {responses[i]}");
    }
    if (!complete)
    {
        Console.Error.WriteLine(result.timedOut
            ? $"runtime-api: the runtime did not finish in {options.TimeoutSeconds} s"
            : $"runtime-api: {responses.Count} of {options.Invokes} invocations answered; the runtime exited with code {exitCode?.ToString() ?? "(killed)"}");
    }
}
return complete ? 0 : 1;

void Forward(TextWriter writer, string? line)
{
    if (line is not null)
    {
        lock (console)
        {
            writer.WriteLine(line);
        }
    }
}

internal sealed record Options(string? EventFile, int Invokes, string? ResultFile, int TimeoutSeconds, string? BeforeRestore, IReadOnlyList<string> Command)
{
    public static Options? Parse(string[] args)
    {
        string? eventFile = null, resultFile = null, beforeRestore = null;
        int invokes = 2, timeout = 180;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--" && i + 1 < args.Length)
            {
                return new Options(eventFile, invokes, resultFile, timeout, beforeRestore, args[(i + 1)..]);
            }
            if (i + 1 >= args.Length)
            {
                return null;
            }
            switch (args[i])
            {
                case "--event": eventFile = args[++i]; break;
                case "--result": resultFile = args[++i]; break;
                case "--before-restore": beforeRestore = args[++i]; break;
                case "--invokes" when int.TryParse(args[i + 1], out var n) && n >= 0: invokes = n; i++; break;
                case "--timeout" when int.TryParse(args[i + 1], out var s) && s > 0: timeout = s; i++; break;
                default: return null;
            }
        }
        return null;
    }
}
