using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Load;

/// <summary>One method's run in a fresh process of this same program (<c>load-one</c>), with its standard error kept.</summary>
internal static class ChildProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    /// <summary>Runs the child; throws with its output when it fails or prints no result.</summary>
    public static (Measurement Result, string Log) Run(string method, BenchmarkArchive archive, SourceKind source, IReadOnlyDictionary<string, string?> environment)
    {
        var program = Environment.ProcessPath ?? "dotnet";
        // Under `dotnet SnapLoader.Benchmarks.dll` the process is the muxer, which needs the assembly again.
        string[] muxer = Path.GetFileNameWithoutExtension(program) == "dotnet" ? [typeof(ChildProcess).Assembly.Location] : [];
        var run = ProcessRunner.Run(program, [.. muxer, LoadOne.Command, method, archive.Path, source.ToString()], Environment.CurrentDirectory, environment, s_timeout);
        var result = run.ExitCode == 0 ? Measurement.FromOutput(run.StandardOutput) : null;
        return result is null
            ? throw new InvalidOperationException($"{method} on {archive.PayloadId} ({source}) failed with exit code {run.ExitCode}:\n{run.Output}")
            : (result, run.StandardError);
    }
}
