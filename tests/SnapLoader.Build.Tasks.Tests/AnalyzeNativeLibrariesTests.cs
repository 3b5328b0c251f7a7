using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class AnalyzeNativeLibrariesTests
{
    private static ITaskItem Moved(string path, string relativePath, string kind = "NativeLibrary")
    {
        var item = new TaskItem(path);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("SnapLoaderKind", kind);
        return item;
    }

    [TestMethod]
    public void OrdersTheLibTorchSetDependenciesFirstAndDataLast()
    {
        var native = TestPaths.LibTorchNativeFolder;
        var engine = new RecordingBuildEngine();
        var task = new AnalyzeNativeLibraries
        {
            BuildEngine = engine,
            RuntimeIdentifier = "linux-x64",
            MovedFiles =
            [
                Moved(TestPaths.ResNet18Model, "models/ResNet18.onnx", "Data"),
                Moved(Path.Combine(native, "libtorch.so"), "libtorch.so"),
                Moved(Path.Combine(native, "libtorch_cpu.so"), "libtorch_cpu.so"),
                Moved(Path.Combine(native, "libc10.so"), "libc10.so"),
                Moved(Path.Combine(native, "libgomp-98b21ff3.so.1"), "libgomp-98b21ff3.so.1"),
            ],
        };

        Assert.IsTrue(task.Execute(), engine.AllText);

        var order = task.OrderedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToList();
        Assert.IsTrue(order.IndexOf("libgomp-98b21ff3.so.1") < order.IndexOf("libtorch_cpu.so"), string.Join(", ", order));
        Assert.IsTrue(order.IndexOf("libc10.so") < order.IndexOf("libtorch_cpu.so"), string.Join(", ", order));
        Assert.IsTrue(order.IndexOf("libtorch_cpu.so") < order.IndexOf("libtorch.so"), string.Join(", ", order));
        Assert.AreEqual("models/ResNet18.onnx", order[^1]);
        Assert.AreEqual("libgomp.so.1", task.OrderedFiles.Single(f => f.ItemSpec.EndsWith("libgomp-98b21ff3.so.1")).GetMetadata("SnapLoaderSoname"));
    }

    [TestMethod]
    public void AnX64LibraryInAnArm64PublishIsAnErrorNamingTheFile()
    {
        var engine = new RecordingBuildEngine();
        var task = new AnalyzeNativeLibraries
        {
            BuildEngine = engine,
            RuntimeIdentifier = "linux-arm64",
            MovedFiles = [Moved(TestPaths.OnnxRuntimeLibrary("linux-x64"), "libonnxruntime.so")],
        };

        Assert.IsFalse(task.Execute());

        var error = engine.Errors.Single();
        Assert.AreEqual("SNAP0002", error.Code);
        StringAssert.Contains(error.Message, "libonnxruntime.so");
        StringAssert.Contains(error.Message, "x86-64");
        StringAssert.Contains(error.Message, "linux-arm64");
        Assert.AreEqual(TestPaths.OnnxRuntimeLibrary("linux-x64"), error.File);
    }

    [TestMethod]
    public void AnArm64LibraryInAnArm64PublishPasses()
    {
        var engine = new RecordingBuildEngine();
        var task = new AnalyzeNativeLibraries
        {
            BuildEngine = engine,
            RuntimeIdentifier = "linux-arm64",
            MovedFiles = [Moved(TestPaths.OnnxRuntimeLibrary("linux-arm64"), "libonnxruntime.so")],
        };

        Assert.IsTrue(task.Execute(), engine.AllText);
        Assert.AreEqual(1, task.OrderedFiles.Length);
    }

    [TestMethod]
    public void AnUnsupportedRidIsAnError()
    {
        var engine = new RecordingBuildEngine();
        var task = new AnalyzeNativeLibraries
        {
            BuildEngine = engine,
            RuntimeIdentifier = "win-x64",
            MovedFiles = [Moved(TestPaths.OnnxRuntimeLibrary(), "libonnxruntime.so")],
        };

        Assert.IsFalse(task.Execute());
        Assert.AreEqual("SNAP0001", engine.Errors.Single().Code);
    }
}
