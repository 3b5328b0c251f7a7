using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// SnapLoader's log lines: through Amazon.Lambda.Core's LambdaLogger with their own level once the Lambda runtime client
/// took it over (in LoggerProbe, a child process with the real Core and the real Amazon.Lambda.RuntimeSupport, which
/// this process must not load), and on standard error as before everywhere else.
/// </summary>
[TestClass]
[DoNotParallelize] // Redirects standard error.
public sealed class LambdaLogTests
{
    // A folder name with every brace the runtime's template parser could take for a placeholder.
    private const string BracedFolder = "a{b}c{{d}}e{}f}g{";
    private const string MissingFileName = "missing{1}.zip";

    private static readonly Lazy<string> s_probe = new(() => ProbeProjects.Build("LoggerProbe", "logger-probe"));

    [TestMethod]
    public void ARoutineLineIsATemplateOfItsFields()
    {
        var (template, arguments) = LambdaLog.Template("download: 6 ranged reads from /var/task/a.zip",
            new Dictionary<string, object?> { ["bytes"] = 70156529L, ["ms"] = 350L, ["busyMs"] = 81L }, code: null);

        Assert.AreEqual("{logger}: download: 6 ranged reads from /var/task/a.zip bytes={bytes} ms={ms} busyMs={busyMs}", template);
        CollectionAssert.AreEqual(new object[] { "SnapLoader", 70156529L, 350L, 81L }, arguments, "numbers stay numbers, for the JSON format");
    }

    [TestMethod]
    public void AMessageWithABraceIsAValueNeverTemplateText()
    {
        // The runtime renders "{{" in a template as "{{" and takes "{x}" for a placeholder: the only literal way through
        // is as a value. A field's value is always one, so a braced path there needs nothing either.
        var message = $"register: 1 files under /tmp/{BracedFolder}/task";
        var (template, arguments) = LambdaLog.Template(message,
            new Dictionary<string, object?> { ["shim"] = false, ["links"] = $"/tmp/{BracedFolder}/links", ["gone"] = null }, code: null);

        Assert.AreEqual("{logger}: {text} shim={shim} links={links} gone={gone}", template);
        CollectionAssert.AreEqual(new object[] { "SnapLoader", message, false, $"/tmp/{BracedFolder}/links", "" }, arguments);

        var (closingOnly, _) = LambdaLog.Template("a } b", null, code: null);
        Assert.AreEqual("{logger}: a } b", closingOnly, "a lone closing brace is literal in a template");
    }

    [TestMethod]
    public void AFailureLineNamesItsCodeAsAField()
    {
        var (template, arguments) = LambdaLog.Template("Cannot read the archive /x.zip: gone.", null, RuntimeErrorCodes.ArchiveUnreadable);

        Assert.AreEqual("{logger}: {code}: Cannot read the archive /x.zip: gone.", template);
        CollectionAssert.AreEqual(new object[] { "SnapLoader", "SNAP1001" }, arguments);
    }

    [TestMethod]
    public void LevelsMapToTheRuntimesNamesAndToTodaysLabels()
    {
        Assert.AreEqual("Information", LambdaLog.RuntimeLevel(LambdaLogLevel.Information));
        Assert.AreEqual("Warning", LambdaLog.RuntimeLevel(LambdaLogLevel.Warning));
        Assert.AreEqual("Error", LambdaLog.RuntimeLevel(LambdaLogLevel.Error));
        Assert.AreEqual("INFO", LambdaLog.FallbackLabel(LambdaLogLevel.Information));
        Assert.AreEqual("WARN", LambdaLog.FallbackLabel(LambdaLogLevel.Warning));
        Assert.AreEqual("ERROR", LambdaLog.FallbackLabel(LambdaLogLevel.Error));
    }

    [TestMethod]
    public void TheFallbackTextLineIsTodays()
    {
        var fields = new Dictionary<string, object?> { ["bytes"] = 70156529L, ["ms"] = 350L, ["busyMs"] = 81L };
        var writer = new StringWriter();

        LambdaLog.WriteFallback(writer, json: false, LambdaLogLevel.Information, "download: 6 ranged reads from X", fields, code: null);
        LambdaLog.WriteFallback(writer, json: false, LambdaLogLevel.Warning, "a {braced} warning", null, code: null);
        LambdaLog.WriteFallback(writer, json: false, LambdaLogLevel.Error, "Cannot read the archive /x.zip: gone.", null, "SNAP1001");

        Assert.AreEqual(
            "SnapLoader INFO: download: 6 ranged reads from X bytes=70156529 ms=350 busyMs=81\n" +
            "SnapLoader WARN: a {braced} warning\n" +
            "SnapLoader ERROR: SNAP1001: Cannot read the archive /x.zip: gone.\n", writer.ToString().ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void TheFallbackJsonRecordIsTodays()
    {
        var writer = new StringWriter();

        LambdaLog.WriteFallback(writer, json: true, LambdaLogLevel.Information, "write: 3 sealed memory files",
            new Dictionary<string, object?> { ["bytes"] = 94148885L, ["ms"] = 350L, ["busyMs"] = 33L }, code: null);
        LambdaLog.WriteFallback(writer, json: true, LambdaLogLevel.Error, "Cannot read the archive /x.zip: gone.", null, "SNAP1001");

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(2, lines);
        var info = JsonNode.Parse(lines[0])!.AsObject();
        CollectionAssert.AreEqual(new[] { "timestamp", "level", "logger", "message", "bytes", "ms", "busyMs" }, info.Select(p => p.Key).ToArray());
        Assert.AreEqual("INFO", info["level"]!.GetValue<string>());
        Assert.AreEqual("SnapLoader", info["logger"]!.GetValue<string>());
        Assert.AreEqual("write: 3 sealed memory files", info["message"]!.GetValue<string>());
        Assert.AreEqual(94148885L, info["bytes"]!.GetValue<long>());
        Assert.MatchesRegex(new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"), info["timestamp"]!.GetValue<string>());
        var error = JsonNode.Parse(lines[1])!.AsObject();
        Assert.AreEqual("ERROR", error["level"]!.GetValue<string>());
        Assert.AreEqual("SNAP1001: Cannot read the archive /x.zip: gone.", error["message"]!.GetValue<string>());
        Assert.AreEqual("SNAP1001", error["code"]!.GetValue<string>());
    }

    [TestMethod]
    public void WithoutAmazonLambdaCoreLinesGoToStandardErrorAsBefore()
    {
        Assert.IsNull(LambdaCoreLogger.TryBind(), "Amazon.Lambda.Core is not in this test process");
        var json = string.Equals(Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_FORMAT"), "JSON", StringComparison.OrdinalIgnoreCase);
        var expected = new StringWriter();
        LambdaLog.WriteFallback(expected, json, LambdaLogLevel.Information, "ready: 1 files from {x}.zip", new Dictionary<string, object?> { ["ms"] = 3L }, code: null);

        var output = Capture(() => LambdaLog.Info("ready: 1 files from {x}.zip", new Dictionary<string, object?> { ["ms"] = 3L }));

        if (json)
        {
            Assert.AreEqual(JsonNode.Parse(expected.ToString())!["message"]!.GetValue<string>(), JsonNode.Parse(output)!["message"]!.GetValue<string>());
        }
        else
        {
            Assert.AreEqual("SnapLoader INFO: ready: 1 files from {x}.zip ms=3\n", output.ReplaceLineEndings("\n"));
        }
    }

    [TestMethod]
    public void AFailureLineThatCannotBeWrittenNeverHidesTheFailure()
    {
        var original = Console.Error;
        Console.SetError(new BrokenWriter());
        try
        {
            LambdaLog.Error(new SnapLoaderException(RuntimeErrorCodes.ArchiveUnreadable, "gone"));
        }
        finally
        {
            Console.SetError(original);
        }
    }

    [TestMethod]
    public void StartLogsItsFailureAtErrorLevelAndThrowsItUnchanged()
    {
        var folder = TestPaths.NewTempFolder("log-failure");
        var manifest = new SnapLoaderManifest(new ArchiveLocation("missing.zip", new string('0', 64), 10), "linux-x64",
            [new MovedFile("a.bin", 1, new string('0', 64), MovedFileKind.Data)]);
        SnapLoaderException? failure = null;

        string output;
        using (new EnvironmentScope(new Dictionary<string, string?>
        {
            ["SNAPLOADER_ARCHIVE"] = null,
            ["SNAPLOADER_ARCHIVE_DIR"] = folder,
            ["SNAPLOADER_TARGET_DIR"] = Path.Combine(folder, "links"),
            ["SNAPLOADER_BASE_PATH"] = Path.Combine(folder, "task"),
        }))
        {
            output = Capture(() => failure = Assert.ThrowsExactly<SnapLoaderException>(() => SnapLoaderRuntime.Start(manifest)));
        }

        Assert.AreEqual(RuntimeErrorCodes.ArchiveUnreadable, failure!.Code);
        StringAssert.StartsWith(failure.Message, "SNAP1001: Cannot read the archive " + Path.Combine(folder, "missing.zip"));
        var errorLines = output.Split('\n').Where(l => l.Contains("ERROR", StringComparison.Ordinal)).ToList();
        Assert.HasCount(1, errorLines, output);
        StringAssert.Contains(errorLines[0], failure.Message.Split(" Check")[0], "the line carries the code and the message");
        Assert.IsNull(SnapLoaderRuntime.Manifest, "the failed start left nothing behind");
        Directory.Delete(folder, recursive: true);
    }

    [TestMethod]
    public void UnderTheRuntimeClientTextLinesCarryTheirOwnLevel()
    {
        var run = RunProbe("runtime", new() { ["AWS_LAMBDA_LOG_FORMAT"] = null, ["AWS_LAMBDA_LOG_LEVEL"] = null });

        Assert.AreEqual("", run.Stderr, "nothing went to standard error, which the runtime shows at Error level");
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.IsFalse(lines.Any(l => l.Contains("SnapLoader INFO", StringComparison.Ordinal)), run.Stdout);
        // <timestamp> TAB <request id, none at init> TAB <level> TAB <message>
        var ours = lines.Select(l => l.Split('\t')).Where(p => p.Length == 4 && p[3].StartsWith("SnapLoader: ", StringComparison.Ordinal)).ToList();
        Assert.IsTrue(ours.All(p => Regex.IsMatch(p[0], @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$") && p[1] == ""), run.Stdout);
        string Level(string start) => ours.Single(p => p[3].StartsWith("SnapLoader: " + start, StringComparison.Ordinal))[2];

        var download = ours.Single(p => p[3].StartsWith("SnapLoader: download:", StringComparison.Ordinal))[3];
        Assert.MatchesRegex(new Regex("^SnapLoader: download: 1 ranged reads from " + Regex.Escape(run.ArchivePath) + @" bytes=\d+ ms=\d+ busyMs=\d+$"), download);
        var register = ours.Single(p => p[3].StartsWith("SnapLoader: register:", StringComparison.Ordinal))[3];
        Assert.MatchesRegex(new Regex("^SnapLoader: register: 1 files under " + Regex.Escape(run.TaskRoot) + " shim=False links=" + Regex.Escape(run.Links) + @" folders=0 ms=\d+$"), register);
        Assert.AreEqual("info", Level("download:"));
        Assert.AreEqual("info", Level("ready:"));
        Assert.AreEqual("info", Level("before snapshot:"));
        Assert.AreEqual("warn", Level("the preload shim is not loaded"));
        Assert.AreEqual("fail", Level("SNAP1001:"));
        var failure = ours.Single(p => p[2] == "fail")[3];
        Assert.AreEqual("SnapLoader: " + run.ErrorMessage, failure, "the code and the whole message, braces and all");
        StringAssert.Contains(failure, Path.Combine(run.ArchiveFolder, MissingFileName));
    }

    [TestMethod]
    public void UnderTheRuntimeClientJsonRecordsHaveTheFieldsAsProperties()
    {
        var run = RunProbe("runtime", new() { ["AWS_LAMBDA_LOG_FORMAT"] = "JSON", ["AWS_LAMBDA_LOG_LEVEL"] = null });

        Assert.AreEqual("", run.Stderr, "nothing went to standard error, which the runtime shows at Error level");
        var records = Records(run.Stdout);
        Assert.IsTrue(records.All(r => !r["message"]!.GetValue<string>().StartsWith('{')), "no record inside a record's message");
        JsonObject Record(string start) => records.Single(r => r["message"]!.GetValue<string>().StartsWith("SnapLoader: " + start, StringComparison.Ordinal));

        var download = Record("download:");
        Assert.AreEqual("Information", download["level"]!.GetValue<string>());
        foreach (var field in new[] { "bytes", "ms", "busyMs" })
        {
            Assert.AreEqual(JsonValueKind.Number, download[field]!.GetValueKind(), field);
        }
        Assert.IsTrue(download["bytes"]!.GetValue<long>() > 0);
        Assert.AreEqual(
            $"SnapLoader: download: 1 ranged reads from {run.ArchivePath} bytes={download["bytes"]} ms={download["ms"]} busyMs={download["busyMs"]}",
            download["message"]!.GetValue<string>());
        Assert.AreEqual($"download: 1 ranged reads from {run.ArchivePath}", download["text"]!.GetValue<string>(),
            "a message with braces also comes as a property of its own");

        var register = Record("register:");
        Assert.AreEqual(JsonValueKind.False, register["shim"]!.GetValueKind());
        Assert.AreEqual(run.Links, register["links"]!.GetValue<string>());

        var ready = Record("ready:");
        Assert.AreEqual("Information", ready["level"]!.GetValue<string>());
        Assert.IsNull(ready["text"], "a message without braces is the template itself");
        Assert.AreEqual(JsonValueKind.Number, ready["ms"]!.GetValueKind());
        Assert.AreEqual("Warning", Record("the preload shim is not loaded")["level"]!.GetValue<string>());

        var failure = Record("SNAP1001:");
        Assert.AreEqual("Error", failure["level"]!.GetValue<string>());
        Assert.AreEqual("SNAP1001", failure["code"]!.GetValue<string>());
        Assert.AreEqual("SnapLoader: " + run.ErrorMessage, failure["message"]!.GetValue<string>());
        Assert.IsTrue(records.All(r => r["logger"]!.GetValue<string>() == "SnapLoader" && r["timestamp"] is not null));
    }

    [TestMethod]
    public void AwsLambdaLogLevelWarnHidesTheRoutineLines()
    {
        var run = RunProbe("runtime", new() { ["AWS_LAMBDA_LOG_FORMAT"] = "JSON", ["AWS_LAMBDA_LOG_LEVEL"] = "WARN" });

        var levels = Records(run.Stdout).Select(r => r["level"]!.GetValue<string>()).ToList();
        CollectionAssert.AreEquivalent(new[] { "Warning", "Error" }, levels, run.Stdout);
        Assert.AreEqual("", run.Stderr);
    }

    [TestMethod]
    public void AmazonLambdaCoreWithoutARuntimeClientKeepsTodaysLines()
    {
        var run = RunProbe("core", new() { ["AWS_LAMBDA_LOG_FORMAT"] = null, ["AWS_LAMBDA_LOG_LEVEL"] = null });

        Assert.IsTrue(run.CoreLoaded, "the real LambdaLogger was there to be found");
        Assert.AreEqual("", run.Stdout, "nothing through Core's own console action (\"Information: ... Arguments: ...\")");
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.IsTrue(lines.Any(l => Regex.IsMatch(l, "^SnapLoader INFO: download: 1 ranged reads from " + Regex.Escape(run.ArchivePath) + @" bytes=\d+ ms=\d+ busyMs=\d+$")), run.Stderr);
        Assert.IsTrue(lines.Any(l => l.StartsWith("SnapLoader WARN: the preload shim is not loaded", StringComparison.Ordinal)), run.Stderr);
        CollectionAssert.Contains(lines, "SnapLoader ERROR: " + run.ErrorMessage);
    }

    private static List<JsonObject> Records(string stdout) => stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => JsonNode.Parse(l)!.AsObject())
        .Where(r => r["logger"]?.GetValue<string>() == "SnapLoader")
        .ToList();

    private static string Capture(Action action)
    {
        var original = Console.Error;
        var writer = new StringWriter();
        Console.SetError(writer);
        try
        {
            action();
        }
        finally
        {
            Console.SetError(original);
        }
        return writer.ToString();
    }

    private sealed record ProbeRun(string Stdout, string Stderr, bool CoreLoaded, string ErrorMessage, string ArchiveFolder, string ArchivePath, string TaskRoot, string Links);

    /// <summary>Runs LoggerProbe on a one-file archive in a folder with braces in its name, with the task root and links there too.</summary>
    private static ProbeRun RunProbe(string mode, Dictionary<string, string?> env)
    {
        var root = TestPaths.NewTempFolder("logger");
        var folder = Path.Combine(root, BracedFolder);
        Directory.CreateDirectory(folder);
        var source = Path.Combine(folder, "model.bin");
        TestArchives.WriteCompressible(source, 64 << 10, seed: 3);
        var (archive, files) = TestArchives.Pack(folder, ArchiveCompression.Zstd, ("models/model.bin", source, MovedFileKind.Data));
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, new JsonObject
        {
            ["archive"] = new JsonObject { ["fileName"] = Path.GetFileName(archive), ["sha256"] = Sha256Hex.OfFile(archive), ["length"] = new FileInfo(archive).Length },
            ["missingFileName"] = MissingFileName,
            ["files"] = new JsonArray(files.Select(f => (JsonNode)new JsonObject
            {
                ["path"] = f.RelativePath, ["size"] = f.Size, ["sha256"] = f.Sha256, ["kind"] = f.Kind.ToString(),
            }).ToArray()),
        }.ToJsonString());
        var (taskRoot, links) = (Directory.CreateDirectory(Path.Combine(folder, "task")).FullName, Path.Combine(folder, "links"));
        env["LAMBDA_TASK_ROOT"] = taskRoot;
        env["SNAPLOADER_ARCHIVE_DIR"] = folder;
        env["SNAPLOADER_TARGET_DIR"] = links;
        env["SNAPLOADER_ARCHIVE"] = null;
        env["SNAPLOADER_BASE_PATH"] = null;
        env["LD_PRELOAD"] = null;
        env["_LAMBDA_TELEMETRY_LOG_FD"] = null;
        env["AWS_LAMBDA_HANDLER_LOG_LEVEL"] = null;
        env["AWS_LAMBDA_HANDLER_LOG_FORMAT"] = null;

        var result = ProcessRunner.Run("dotnet", [s_probe.Value, manifest, mode], folder, env);
        Directory.Delete(root, recursive: true);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.IsTrue(findings["missingFailed"]!.GetValue<bool>(), result.Output);
        Assert.AreEqual(RuntimeErrorCodes.ArchiveUnreadable, findings["errorCode"]!.GetValue<string>(), result.Output);
        return new ProbeRun(findings["stdout"]!.GetValue<string>(), findings["stderr"]!.GetValue<string>(), findings["coreLoaded"]!.GetValue<bool>(),
            findings["errorMessage"]!.GetValue<string>(), folder, archive, taskRoot, links);
    }

    private sealed class BrokenWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => throw new IOException("standard error is gone");

        public override void Write(string? value) => throw new IOException("standard error is gone");

        public override void WriteLine(string? value) => throw new IOException("standard error is gone");
    }
}
