using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>One run of tools/lambda-run.sh and what its host reported.</summary>
internal sealed class LambdaRun
{
    /// <summary>Lambda's limit on a deployment, unzipped, layers included.</summary>
    public const long DeploymentLimit = 262_144_000;

    private LambdaRun(string output, JsonNode result)
    {
        Output = output;
        Result = result;
    }

    /// <summary>Everything the run printed: SnapLoader's log lines, the host's lines and its final JSON line.</summary>
    public string Output { get; }

    /// <summary>The host's final JSON line.</summary>
    public JsonNode Result { get; }

    public string Response => Result["response"]!.GetValue<string>();

    public string ResponseAfterRestore => Result["responseAfterRestore"]!.GetValue<string>();

    /// <summary>Names of the memory files mapped into the function's process (from /proc/self/maps).</summary>
    public IReadOnlyList<string> MemfdMappings => Result["memfdMappings"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();

    /// <summary>Names of the memory files open in the function's process (from /proc/self/fd): data files too, which are read, not mapped.</summary>
    public IReadOnlyList<string> MemfdDescriptors => Result["memfdDescriptors"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();

    /// <summary>Whether SnapLoader's before-snapshot and after-restore hooks ran (the after-restore one logs its check).</summary>
    public bool SnapStartHooksRan => Result["snapStartHooks"]!.GetValue<bool>()
        && Output.Contains("after restore: memory files verified, links in place", StringComparison.Ordinal);

    /// <summary>Runs <paramref name="handler"/> of <paramref name="publish"/> on <paramref name="eventFile"/>; fails the test on a non-zero exit.</summary>
    public static LambdaRun Start(string publish, string handler, string eventFile, string? archives = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        List<string> arguments = [Path.Combine(TestPaths.RepositoryRoot, "tools", "lambda-run.sh"), publish, handler, eventFile];
        if (archives is not null)
        {
            arguments.Add(archives);
        }
        var run = ProcessRunner.Run("bash", arguments, Path.GetDirectoryName(eventFile)!, environment);
        Assert.AreEqual(0, run.ExitCode, run.Output);
        return new LambdaRun(run.Output, JsonNode.Parse(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!);
    }

    /// <summary>The size of a publish folder, which is what the deployment zip unpacks to.</summary>
    public static long DeploymentSize(string publish) =>
        Directory.EnumerateFiles(publish, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
