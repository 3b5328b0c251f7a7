using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// What a user sees under the real Lambda runtime client (Amazon.Lambda.RuntimeSupport in a /var/runtime laid out as
/// the dotnet10 image's): the Runtime API calls it makes, in order, with SnapStart and without, what it reports when
/// SnapLoader fails at init or after a restore, and how the managed runtime's bootstrap treats the exec wrapper.
/// </summary>
[TestClass]
public sealed class ManagedRuntimeTests
{
    private const string SnapStart = "snap-start";

    [TestMethod]
    public void WithSnapStartTheRuntimeRunsTheHooksAroundRestoreBeforeTheFirstInvocation()
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"),
            new Dictionary<string, string?> { ["AWS_LAMBDA_INITIALIZATION_TYPE"] = SnapStart });

        CollectionAssert.AreEqual(new[]
        {
            "/runtime/restore/next",
            "/runtime/invocation/next", "/runtime/invocation/response",
            "/runtime/invocation/next", "/runtime/invocation/response",
            "/runtime/invocation/next",
        }, run.CallSequence.ToArray(), run.Output);
        Assert.IsTrue(run.SnapStartHooksRan, "before-snapshot before restore/next, after-restore after it, then the invocations:\n" + run.Output);
    }

    [TestMethod]
    public void WithoutSnapStartTheFirstCallIsTheFirstInvocation()
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"),
            new Dictionary<string, string?> { ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand" });

        Assert.AreEqual("/runtime/invocation/next", run.CallSequence[0], run.Output);
        Assert.IsFalse(run.CallSequence.Contains("/runtime/restore/next"));
        Assert.IsFalse(run.Output.Contains("before snapshot:", StringComparison.Ordinal), "no snapshot, no hook");
        Assert.AreEqual("ort 1.31.1, exists True, read-only True", run.Response);
    }

    [TestMethod]
    public void ALoadThatFailsAtInitEndsInInitErrorNamingTheCodeAndTheArchive()
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;
        var archive = Path.GetFileName(Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single());
        var empty = TestPaths.NewTempFolder("no-archive");

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, empty,
            new Dictionary<string, string?> { ["AWS_LAMBDA_INITIALIZATION_TYPE"] = SnapStart }, expectSuccess: false);

        Assert.AreNotEqual(0, run.ExitCode);
        var initError = run.Calls.SingleOrDefault(c => c.Path == "/runtime/init/error");
        Assert.IsNotNull(initError, "the runtime reported the failed init:\n" + run.Output);
        Assert.IsFalse(run.CallSequence.Contains("/runtime/invocation/next"), "no invocation after a failed init");
        Assert.IsFalse(run.CallSequence.Contains("/runtime/restore/next"), "no snapshot of a failed init");
        var body = initError.Body!;
        StringAssert.Contains(body, "SNAP1001", "the console shows SnapLoader's code");
        StringAssert.Contains(body, archive, "and the archive it could not open");
        StringAssert.Contains(body, "Check that the file exists", "and what to check");
        var errorLine = run.Output.Split('\n').FirstOrDefault(l => l.Contains("\tfail\t", StringComparison.Ordinal) && l.Contains("SNAP1001", StringComparison.Ordinal));
        Assert.IsNotNull(errorLine, "one Error line names the code in the log:\n" + run.Output);
    }

    [TestMethod]
    public void AnAfterRestoreCheckThatFailsEndsInRestoreErrorWithItsCode()
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;
        var links = Path.Combine(TestPaths.NewTempFolder("restore"), "links");

        // While the snapshot waits, something plants a link where SnapLoader's folder of links was.
        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"),
            new Dictionary<string, string?>
            {
                ["AWS_LAMBDA_INITIALIZATION_TYPE"] = SnapStart,
                ["SNAPLOADER_TARGET_DIR"] = links,
                ["SNAPLOADER_RUN_BEFORE_RESTORE"] = $"rm -rf '{links}' && ln -s /etc '{links}'",
            }, expectSuccess: false);

        var restoreError = run.Calls.SingleOrDefault(c => c.Path == "/runtime/restore/error");
        Assert.IsNotNull(restoreError, "the runtime reported the failed restore:\n" + run.Output);
        StringAssert.Contains(restoreError.Body!, "SNAP1022");
        StringAssert.Contains(restoreError.Body!, links, "the message names the folder");
        StringAssert.Contains(restoreError.Body!, "Remove it or choose another target folder", "and what to do");
        Assert.IsFalse(run.CallSequence.Contains("/runtime/invocation/next"), "no invocation after a failed restore");
    }

    [TestMethod]
    public void AMissingExecWrapperExits127AndOneThatIsNotExecutable126()
    {
        var (project, publish, eventFile) = LambdaLikeRunTests.Published.Value;

        var missing = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"),
            new Dictionary<string, string?> { ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/no-such-wrapper" }, expectSuccess: false);
        Assert.AreEqual(127, missing.Result["exitCode"]!.GetValue<int>(), missing.Output);
        StringAssert.Contains(missing.Output, "/var/task/no-such-wrapper: does not exist");
        Assert.AreEqual(0, missing.Calls.Count, "the runtime never started");

        var copy = Path.Combine(project.Directory, "wrapper-not-executable");
        ProcessRunner.Run("cp", ["-a", publish + "/.", copy], project.Directory).EnsureSuccess("cp");
        File.SetUnixFileMode(Path.Combine(copy, "snaploader-exec-wrapper"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var notExecutable = LambdaRun.Start(copy, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"), expectSuccess: false);
        Assert.AreEqual(126, notExecutable.Result["exitCode"]!.GetValue<int>(), notExecutable.Output);
        StringAssert.Contains(notExecutable.Output, "/var/task/snaploader-exec-wrapper: is not an executable");
    }
}
