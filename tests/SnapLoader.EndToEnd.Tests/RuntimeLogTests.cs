using System.Text.Json;
using System.Text.Json.Nodes;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// SnapLoader's log lines as the real runtime client writes them: through Amazon.Lambda.Core's LambdaLogger, at their
/// own level, in the text format and in Lambda's JSON format, filtered by AWS_LAMBDA_LOG_LEVEL.
/// </summary>
[TestClass]
public sealed class RuntimeLogTests
{
    private static readonly string[] s_routine = ["download:", "decode:", "verify:", "write:", "register:", "load:", "ready:", "before snapshot:", "after restore:"];

    [TestMethod]
    public void InTheTextFormatRoutineLinesAreInformationAndNoneIsAnError()
    {
        var run = Run(new Dictionary<string, string?>());

        var lines = SnapLoaderLines(run);
        foreach (var stage in s_routine)
        {
            var line = lines.FirstOrDefault(l => l.Contains("\t" + stage, StringComparison.Ordinal) || l.Contains(" " + stage, StringComparison.Ordinal));
            Assert.IsNotNull(line, $"a '{stage}' line:\n{run.Output}");
            StringAssert.Contains(line, "\tinfo\t", "the runtime shows it at Information: " + line);
        }
        Assert.IsFalse(lines.Any(l => l.Contains("\tfail\t", StringComparison.Ordinal)), "no SnapLoader line is an error:\n" + string.Join("\n", lines));
        StringAssert.Matches(lines.First(l => l.Contains("download:", StringComparison.Ordinal)), new System.Text.RegularExpressions.Regex(@"bytes=\d+ ms=\d+ busyMs=\d+"));
    }

    [TestMethod]
    public void InTheJsonFormatEachLineIsOneRecordWithTheFiguresAsFields()
    {
        var run = Run(new Dictionary<string, string?> { ["AWS_LAMBDA_LOG_FORMAT"] = "JSON" });

        var records = run.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var ours = records.Where(r => Message(r) is { } m && s_routine.Any(s => m.StartsWith(s, StringComparison.Ordinal))).ToList();
        Assert.AreEqual(s_routine.Length, ours.Count, "one record per routine line:\n" + run.Output);
        foreach (var record in ours)
        {
            Assert.AreEqual("Information", record["level"]!.GetValue<string>(), record.ToJsonString());
            Assert.IsFalse(record["message"]!.GetValue<string>().Contains('{'), "no JSON inside the message: " + record.ToJsonString());
        }
        var download = ours.Single(r => Message(r)!.StartsWith("download:", StringComparison.Ordinal));
        Assert.AreEqual(JsonValueKind.Number, download["bytes"]!.GetValueKind(), "the figures are fields: " + download.ToJsonString());
        Assert.IsTrue(download["bytes"]!.GetValue<long>() > 1_000_000);
        Assert.AreEqual(JsonValueKind.Number, download["ms"]!.GetValueKind());
    }

    [TestMethod]
    public void AtLogLevelWarnRoutineLinesAreHiddenAndAWarningStillShows()
    {
        // Without the exec wrapper's preload, SnapLoader warns once that native code will not find moved files.
        var run = Run(new Dictionary<string, string?> { ["AWS_LAMBDA_LOG_LEVEL"] = "WARN", ["AWS_LAMBDA_EXEC_WRAPPER"] = "/usr/bin/env" });

        var lines = SnapLoaderLines(run);
        Assert.IsFalse(lines.Any(l => s_routine.Any(s => l.Contains(s, StringComparison.Ordinal))), "routine lines are hidden:\n" + string.Join("\n", lines));
        var warning = lines.SingleOrDefault(l => l.Contains("preload shim is not loaded", StringComparison.Ordinal));
        Assert.IsNotNull(warning, run.Output);
        StringAssert.Contains(warning, "\twarn\t");
    }

    // The message of one of SnapLoader's records, without the logger's name in front.
    private static string? Message(JsonObject record) =>
        record["message"]?.GetValue<string>() is { } message && message.StartsWith("SnapLoader: ", StringComparison.Ordinal) ? message["SnapLoader: ".Length..] : null;

    private static LambdaRun Run(Dictionary<string, string?> environment)
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;
        return LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"), environment);
    }

    private static List<string> SnapLoaderLines(LambdaRun run) =>
        run.Output.Split('\n').Where(l => l.Contains("SnapLoader", StringComparison.Ordinal) && !l.StartsWith("runtime-api:", StringComparison.Ordinal)).ToList();
}
