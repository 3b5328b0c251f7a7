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

    private static ITaskItem Foreign(string relativePath, long size, string platform)
    {
        var item = Moved(relativePath, size);
        item.SetMetadata("SnapLoaderPlatform", platform);
        return item;
    }

    [TestMethod]
    public void ListsTheNativeFilesForOtherPlatformsThatStayWithTheirSizes()
    {
        var publish = TestPaths.NewTempFolder("report");
        TestItems.WriteFile(publish, "onnxruntime.dll", 17_253_728);
        var engine = new RecordingBuildEngine();
        var task = Task(engine, publish);
        task.ForeignFiles = [Foreign("onnxruntime.dll", 17_253_728, "Windows PE, x86-64"), Foreign("onnxruntime_providers_shared.dll", 21_816, "Windows PE, x86-64")];

        Assert.IsTrue(task.Execute());

        var text = engine.AllText;
        StringAssert.Contains(text, "native files for other platforms than linux-x64, still in the deployment: 2 files, 17.3 MB");
        StringAssert.Contains(text, "SnapLoaderRemoveForeignBinaries=true leaves them out");
        StringAssert.Contains(text, "17.3 MB  onnxruntime.dll (Windows PE, x86-64)");
        StringAssert.Contains(text, "21.8 KB  onnxruntime_providers_shared.dll (Windows PE, x86-64)");
        StringAssert.Contains(text, "478.5 MB before, 17.3 MB after", "the foreign files that stay count after");
    }

    [TestMethod]
    public void SaysWhenTheyWereLeftOutAndCountsThemBefore()
    {
        var publish = TestPaths.NewTempFolder("report");
        TestItems.WriteFile(publish, "Function.dll", 2_000_000);
        var engine = new RecordingBuildEngine();
        var task = Task(engine, publish);
        task.ForeignFiles = [Foreign("onnxruntime.dll", 17_253_728, "Windows PE, x86-64")];
        task.ForeignFilesRemoved = true;

        Assert.IsTrue(task.Execute());

        var text = engine.AllText;
        StringAssert.Contains(text, "left out of the deployment (SnapLoaderRemoveForeignBinaries): 1 files, 17.3 MB:");
        StringAssert.Contains(text, "480.5 MB before, 2.0 MB after", "before is the deployment without SnapLoader");
    }

    [TestMethod]
    public void WithNothingMovedOnlyTheForeignFilesAreReported()
    {
        var publish = TestPaths.NewTempFolder("report");
        var engine = new RecordingBuildEngine();
        var task = new ReportMovedFiles
        {
            BuildEngine = engine,
            PublishDirectory = publish,
            RuntimeIdentifier = "linux-arm64",
            ForeignFiles = [Foreign("onnxruntime.dll", 17_253_728, "Windows PE, x86-64")],
            SizeLimit = 1,
        };

        Assert.IsTrue(task.Execute(), "no size check without moved files");

        var text = engine.AllText;
        StringAssert.StartsWith(text, "SnapLoader: native files for other platforms than linux-arm64, still in the deployment: 1 files, 17.3 MB");
        Assert.IsFalse(text.Contains("archive:", StringComparison.Ordinal), text);
        Assert.IsFalse(text.Contains("AWS_LAMBDA_EXEC_WRAPPER", StringComparison.Ordinal), text);
    }

    [TestMethod]
    public void WithNothingMovedAndNothingForeignItSaysNothing()
    {
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(new ReportMovedFiles { BuildEngine = engine, PublishDirectory = TestPaths.NewTempFolder("report") }.Execute());

        Assert.AreEqual(0, engine.Messages.Count);
    }
}
