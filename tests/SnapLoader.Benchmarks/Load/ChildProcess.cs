using System.Diagnostics;
using System.Text;

namespace SnapLoader.Benchmarks.Load;

/// <summary>One method's run in a fresh process of this same program (<c>load-one</c>), with its standard error kept.</summary>
internal static class ChildProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    /// <summary>Runs the child; throws with its output when it fails or prints no result.</summary>
    public static (Measurement Result, string Log) Run(string method, BenchmarkArchive archive, SourceKind source, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Under `dotnet SnapLoader.Benchmarks.dll` the process is the muxer, which needs the assembly again.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }
        foreach (var argument in new[] { LoadOne.Command, method, archive.Path, source.ToString() })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var output = new StringBuilder();
        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{method} on {archive.PayloadId} ({source}) did not finish in {s_timeout.TotalMinutes} minutes.\n{Text(log)}");
        }
        process.WaitForExit();
        var result = process.ExitCode == 0 ? Measurement.FromOutput(Text(output)) : null;
        return result is null
            ? throw new InvalidOperationException($"{method} on {archive.PayloadId} ({source}) failed with exit code {process.ExitCode}:\n{Text(output)}{Text(log)}")
            : (result, Text(log));
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is not null)
        {
            lock (builder)
            {
                builder.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }
}
