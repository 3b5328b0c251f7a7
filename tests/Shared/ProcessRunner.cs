using System.Diagnostics;
using System.Text;

namespace SnapLoader.Tests;

/// <summary>The outcome of a finished process.</summary>
/// <param name="ExitCode">The exit status.</param>
/// <param name="Output">Standard output and standard error, interleaved as the lines came.</param>
internal sealed record ProcessResult(int ExitCode, string Output)
{
    /// <summary>Standard output alone, for a test that parses what the tool prints.</summary>
    public string StandardOutput { get; init; } = "";

    /// <summary>Standard error alone.</summary>
    public string StandardError { get; init; } = "";

    /// <summary>Throws with the output when the process failed, so the test log shows why.</summary>
    public ProcessResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{Output}");
        }
        return this;
    }
}

/// <summary>Runs a command with its output captured (stdout and stderr interleaved).</summary>
internal static class ProcessRunner
{
    /// <summary>
    /// Runs the command to its end. <paramref name="onLine"/>, if given, sees each output line as it
    /// comes (from the thread that reads it), so a test can act while the command still runs.
    /// </summary>
    public static ProcessResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, Action<string>? onLine = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
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
        var standardOutput = new StringBuilder();
        var standardError = new StringBuilder();
        using var process = new Process { StartInfo = start };
        void OnData(string? line, StringBuilder stream)
        {
            if (line is null)
            {
                return;
            }
            lock (output)
            {
                output.AppendLine(line);
                stream.AppendLine(line);
            }
            onLine?.Invoke(line);
        }
        process.OutputDataReceived += (_, e) => OnData(e.Data, standardOutput);
        process.ErrorDataReceived += (_, e) => OnData(e.Data, standardError);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in time:\n{output}");
        }
        process.WaitForExit();
        lock (output)
        {
            return new ProcessResult(process.ExitCode, output.ToString())
            {
                StandardOutput = standardOutput.ToString(),
                StandardError = standardError.ToString(),
            };
        }
    }
}
