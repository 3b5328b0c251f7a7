using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class SelectMovedFilesTests
{
    private static SelectMovedFiles Task(RecordingBuildEngine engine, params ITaskItem[] files) =>
        new() { BuildEngine = engine, Files = files, RuntimeIdentifier = "linux-x64" };

    [TestMethod]
    public void MovesLargeElfLibrariesAndKeepsSmallOnesAndNonElfFiles()
    {
        var folder = TestPaths.NewTempFolder("select");
        var notElf = TestItems.WriteFile(folder, "libfake.so", 2 * 1024 * 1024);
        var small = Path.Combine(Path.GetDirectoryName(TestPaths.OnnxRuntimeLibrary())!, "libonnxruntime_providers_shared.so");
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary(), "libonnxruntime.so", "Microsoft.ML.OnnxRuntime", "1.31.1", "runtimes/linux-x64/native/libonnxruntime.so", "native"),
            TestItems.PublishItem(small, "libonnxruntime_providers_shared.so", "Microsoft.ML.OnnxRuntime", "1.31.1", "runtimes/linux-x64/native/libonnxruntime_providers_shared.so", "native"),
            TestItems.PublishItem(notElf, "libfake.so"));

        Assert.IsTrue(task.Execute());

        var moved = task.MovedFiles.Single();
        Assert.AreEqual("libonnxruntime.so", moved.GetMetadata("SnapLoaderRelativePath"));
        Assert.AreEqual("NativeLibrary", moved.GetMetadata("SnapLoaderKind"));
        Assert.AreEqual(new FileInfo(TestPaths.OnnxRuntimeLibrary()).Length.ToString(), moved.GetMetadata("SnapLoaderSize"));
        Assert.AreEqual("Microsoft.ML.OnnxRuntime", moved.GetMetadata("NuGetPackageId"), "the SDK's metadata must survive for the deps.json rewrite");
    }

    [TestMethod]
    public void AFileInThePublishSetTwiceUnderTheSamePathMovesOnce()
    {
        // What the SDK hands over for a Content file named " leading.bin": its de-duplication trims item specs.
        var folder = TestPaths.NewTempFolder("select");
        var file = TestItems.WriteFile(folder, " leading.bin", 100);
        var engine = new RecordingBuildEngine();
        var task = Task(engine, TestItems.PublishItem(file, " leading.bin"), TestItems.PublishItem(file, " leading.bin"));
        task.Include = [new TaskItem(" leading.bin")];

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(" leading.bin", task.MovedFiles.Single().GetMetadata("SnapLoaderRelativePath"));
    }

    [TestMethod]
    public void PathsAreKeptExactlyAndItemSpecsSurviveTrimming()
    {
        // MSBuild unescapes what a task sets with SetMetadata, and trims each piece of an item list it expands.
        var folder = TestPaths.NewTempFolder("select");
        string[] names = ["%41%2A.bin", "50%25.bin", "a;b.bin", "$(x).bin", "@(x).bin", "star*.bin", "what?.bin", " leading.bin", "trailing.bin "];
        var engine = new RecordingBuildEngine();
        var task = Task(engine, names.Select(n => TestItems.PublishItem(MSBuildEscaping.Escape(TestItems.WriteFile(folder, n, 100)), MSBuildEscaping.Escape(n))).ToArray());
        task.Include = [new TaskItem("%2A.bin%2A")];

        Assert.IsTrue(task.Execute());

        CollectionAssert.AreEquivalent(names, task.MovedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
        foreach (ITaskItem2 moved in task.MovedFiles)
        {
            var name = ((ITaskItem)moved).GetMetadata("SnapLoaderRelativePath");
            Assert.AreEqual(Path.Combine(folder, name), ((ITaskItem)moved).ItemSpec, name);
            Assert.AreEqual(moved.EvaluatedIncludeEscaped.Trim(), moved.EvaluatedIncludeEscaped, $"'{name}' would be trimmed by Remove");
        }
    }

    [TestMethod]
    public void TheDotNetRuntimeOfASelfContainedPublishStays()
    {
        // The host loads libcoreclr.so (about 7 MB) before any managed code, so it can never come from the archive.
        var coreclr = Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "libcoreclr.so");
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(coreclr, "libcoreclr.so", "Microsoft.NETCore.App.Runtime.linux-x64", "8.0.22", "runtimes/linux-x64/native/libcoreclr.so", "native"),
            TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary(), "libonnxruntime.so", "Microsoft.ML.OnnxRuntime", "1.31.1", "runtimes/linux-x64/native/libonnxruntime.so", "native"));
        task.Include = [new Microsoft.Build.Utilities.TaskItem("libcoreclr.so")];

        Assert.IsTrue(task.Execute());

        Assert.AreEqual("libonnxruntime.so", task.MovedFiles.Single().GetMetadata("SnapLoaderRelativePath"));
        StringAssert.Contains(engine.Warnings.Single(w => w.Code == "SNAP0007").Message, "the .NET runtime of a self-contained publish");
    }

    [TestMethod]
    public void ALibraryThatAMovedLibraryNeedsMovesWithItWhateverItsSize()
    {
        // libtorch_cpu.so needs libc10.so (1.5 MB, moves anyway) and libgomp-98b21ff3.so.1 (283 KB, under the threshold).
        // libshm.so (56 KB) is needed by no moved library and stays.
        var engine = new RecordingBuildEngine();
        ITaskItem Library(string name) => TestItems.PublishItem(Path.Combine(TestPaths.LibTorchNativeFolder, name), name,
            "libtorch-cpu-linux-x64", "2.10.0", $"runtimes/linux-x64/native/{name}", "native");
        var files = new[] { Library("libtorch_cpu.so"), Library("libc10.so"), Library("libgomp-98b21ff3.so.1"), Library("libshm.so") };

        var task = Task(engine, files);
        Assert.IsTrue(task.Execute());
        CollectionAssert.AreEqual(new[] { "libc10.so", "libgomp-98b21ff3.so.1", "libtorch_cpu.so" },
            task.MovedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
        Assert.AreEqual("NativeLibrary", task.MovedFiles[1].GetMetadata("SnapLoaderKind"));
        StringAssert.Contains(engine.AllText, "'libgomp-98b21ff3.so.1' with 'libtorch_cpu.so'");

        // SnapLoaderExclude still wins: the user keeps the library in the deployment on purpose.
        var excluding = Task(new RecordingBuildEngine(), files);
        excluding.Exclude = [new TaskItem("libgomp-98b21ff3.so.1")];
        Assert.IsTrue(excluding.Execute());
        CollectionAssert.AreEqual(new[] { "libc10.so", "libtorch_cpu.so" }, excluding.MovedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
    }

    [TestMethod]
    public void AnElfNativeAssetNotNamedLikeALibraryMovesAsData()
    {
        // Like Microsoft.ML's libLdaNative.so.dbg: ELF, a native asset, never opened by the dynamic loader.
        var folder = TestPaths.NewTempFolder("select");
        var debugFile = Path.Combine(folder, "libonnxruntime.so.dbg");
        File.Copy(TestPaths.OnnxRuntimeLibrary(), debugFile);
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(debugFile, "libonnxruntime.so.dbg", "Some.Package", "1.0.0", "runtimes/linux-x64/native/libonnxruntime.so.dbg", "native"),
            TestItems.PublishItem(debugFile, "not-an-asset.so.dbg"));

        Assert.IsTrue(task.Execute());

        var moved = task.MovedFiles.Single();
        Assert.AreEqual("libonnxruntime.so.dbg", moved.GetMetadata("SnapLoaderRelativePath"));
        Assert.AreEqual("Data", moved.GetMetadata("SnapLoaderKind"));
    }

    [TestMethod]
    public void WithoutRidOnlyTheTargetRidsFolderMoves()
    {
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary("linux-x64"), "runtimes/linux-x64/native/libonnxruntime.so"),
            TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary("linux-arm64"), "runtimes/linux-arm64/native/libonnxruntime.so"));

        Assert.IsTrue(task.Execute());

        CollectionAssert.AreEqual(new[] { "runtimes/linux-x64/native/libonnxruntime.so" },
            task.MovedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
    }

    [TestMethod]
    public void IncludeGlobMovesDataFilesOfAnySizeAndExcludeWins()
    {
        var folder = TestPaths.NewTempFolder("select");
        var tiny = TestItems.WriteFile(folder, "labels.txt", 10);
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(TestPaths.ResNet18Model, "models/resnet/ResNet18.onnx"),
            TestItems.PublishItem(tiny, "models/labels.txt"),
            TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary(), "libonnxruntime.so"));
        task.Include = [new TaskItem("models/**/*.onnx"), new TaskItem("models/labels.txt")];
        task.Exclude = [new TaskItem("libonnxruntime.so")];

        Assert.IsTrue(task.Execute());

        CollectionAssert.AreEqual(new[] { "models/labels.txt", "models/resnet/ResNet18.onnx" },
            task.MovedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
        Assert.IsTrue(task.MovedFiles.All(f => f.GetMetadata("SnapLoaderKind") == "Data"));
    }

    [TestMethod]
    public void IncludeByProjectFilePathMatchesTheSameSourceFile()
    {
        // What MSBuild hands over when a SnapLoaderInclude glob matched files of the project folder.
        var engine = new RecordingBuildEngine();
        var task = Task(engine, TestItems.PublishItem(TestPaths.ResNet18Model, "DnnImageModels/ResNet18Onnx/ResNet18.onnx"));
        task.Include = [new TaskItem(TestPaths.ResNet18Model)];

        Assert.IsTrue(task.Execute());

        Assert.AreEqual("DnnImageModels/ResNet18Onnx/ResNet18.onnx", task.MovedFiles.Single().GetMetadata("SnapLoaderRelativePath"));
    }

    [TestMethod]
    public void ManagedAssembliesAndHostFilesNeverMoveEvenWhenIncluded()
    {
        var assembly = typeof(SelectMovedFiles).Assembly.Location;
        var folder = TestPaths.NewTempFolder("select");
        var deps = TestItems.WriteFile(folder, "Function.deps.json", 3 * 1024 * 1024);
        var engine = new RecordingBuildEngine();
        var task = Task(engine,
            TestItems.PublishItem(assembly, "SnapLoader.Build.Tasks.dll"),
            TestItems.PublishItem(deps, "Function.deps.json"));
        task.Include = [new TaskItem("*.dll"), new TaskItem("Function.deps.json")];

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(0, task.MovedFiles.Length);
        Assert.AreEqual(2, engine.WarningCodes.Count(c => c == "SNAP0007"));
        Assert.IsTrue(engine.WarningCodes.Contains("SNAP0003"));
    }

    [TestMethod]
    public void ThresholdRaisesTheBarAndNothingSelectedIsAWarning()
    {
        var engine = new RecordingBuildEngine();
        var task = Task(engine, TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary(), "libonnxruntime.so"));
        task.Threshold = 64L * 1024 * 1024;

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(0, task.MovedFiles.Length);
        var warning = engine.Warnings.Single();
        Assert.AreEqual("SNAP0003", warning.Code);
        StringAssert.Contains(warning.Message, "67,108,864");
    }
}
