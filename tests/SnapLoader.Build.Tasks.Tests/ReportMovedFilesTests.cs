using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class ReportMovedFilesTests
{
    private static ITaskItem Moved(string relativePath, long size)
    {
        var item = new TaskItem("/src/" + relativePath);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("SnapLoaderSize", size.ToString());
        return item;
    }

    private static ReportMovedFiles Task(RecordingBuildEngine engine, string publishDir) => new()
    {
        BuildEngine = engine,
        MovedFiles = [Moved("libtorch_cpu.so", 461_211_481)],
        PublishDirectory = publishDir,
        ArchiveLocation = "s3://bucket/snaploader/abc.zip",
        ArchiveLength = 80_000_000,
        WrapperRelativePath = "snaploader-exec-wrapper",
    };

    [TestMethod]
    public void ReportsSizesLocationAndTheWrapperVariable()
    {
        var publish = TestPaths.NewTempFolder("report");
        TestItems.WriteFile(publish, "Function.dll", 2_000_000);
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine, publish).Execute());

        var text = engine.AllText;
        StringAssert.Contains(text, "libtorch_cpu.so");
        StringAssert.Contains(text, "463.2 MB before, 2.0 MB after");
        StringAssert.Contains(text, "s3://bucket/snaploader/abc.zip");
        StringAssert.Contains(text, "AWS_LAMBDA_EXEC_WRAPPER=/var/task/snaploader-exec-wrapper");
    }

    [TestMethod]
    public void ADeploymentStillTooLargeIsAnErrorOrAWarningWhenAsked()
    {
        var publish = TestPaths.NewTempFolder("report");
        TestItems.WriteFile(publish, "big.bin", 2_000_000);

        var engine = new RecordingBuildEngine();
        var task = Task(engine, publish);
        task.SizeLimit = 1_000_000;
        Assert.IsFalse(task.Execute());
        Assert.AreEqual("SNAP0004", engine.Errors.Single().Code);
        StringAssert.Contains(engine.Errors.Single().Message, "2,000,000");

        var warningEngine = new RecordingBuildEngine();
        var lenient = Task(warningEngine, publish);
        lenient.SizeLimit = 1_000_000;
        lenient.SizeLimitSeverity = "Warning";
        Assert.IsTrue(lenient.Execute());
        Assert.AreEqual("SNAP0004", warningEngine.Warnings.Single().Code);
    }
}
