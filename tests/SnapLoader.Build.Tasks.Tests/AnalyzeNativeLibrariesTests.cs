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

    private const string Native = "runtimes/linux-x64/native";
    private static readonly string[] s_variants = ["avx", "avx2", "avx512", "noavx"];

    /// <summary>LLamaSharp.Backend.Cpu's layout in small: libggml-base.so and libggml.so in four variant folders, plus a data file.</summary>
    private static (GccPublishFolder Publish, ITaskItem[] Moved) Variants()
    {
        var publish = new GccPublishFolder("analyze-variants");
        var moved = new List<ITaskItem>();
        foreach (var variant in s_variants)
        {
            var folder = $"{Native}/{variant}";
            publish.Library($"{folder}/libggml-base.so", "libggml-base.so");
            publish.Library($"{folder}/libggml.so", "libggml.so", ["libggml-base.so"], "$ORIGIN");
            moved.Add(publish.Moved($"{folder}/libggml-base.so"));
            moved.Add(publish.Moved($"{folder}/libggml.so"));
        }
        TestItems.WriteFile(publish.Root, "models/model.bin", 16);
        moved.Add(publish.Moved("models/model.bin", "Data"));
        return (publish, [.. moved]);
    }

    private static AnalyzeNativeLibraries Analyze(RecordingBuildEngine engine, ITaskItem[] moved, params ITaskItem[] loadAtInit) => new()
    {
        BuildEngine = engine,
        RuntimeIdentifier = ElfTestTools.HostMachine == Elf.ElfMachines.AArch64 ? "linux-arm64" : "linux-x64",
        MovedFiles = moved,
        LoadAtInit = loadAtInit,
    };

    private static ITaskItem Output(AnalyzeNativeLibraries task, string relativePath) =>
        task.OrderedFiles.Single(f => f.GetMetadata("SnapLoaderRelativePath") == relativePath);

    [TestMethod]
    public void EachLibraryNeedsTheMovedLibrariesOfItsOwnVariantFolder()
    {
        var (_, moved) = Variants();
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, moved);

        Assert.IsTrue(task.Execute(), engine.AllText);

        foreach (var variant in s_variants)
        {
            Assert.AreEqual($"{Native}/{variant}/libggml-base.so", Output(task, $"{Native}/{variant}/libggml.so").GetMetadata("SnapLoaderNeeds"), variant);
            Assert.AreEqual("", Output(task, $"{Native}/{variant}/libggml-base.so").GetMetadata("SnapLoaderNeeds"), variant);
            Assert.AreEqual("", Output(task, $"{Native}/{variant}/libggml.so").GetMetadata("SnapLoaderLoadAtInit"), "nothing asked to load at init");
        }
        Assert.AreEqual("", Output(task, "models/model.bin").GetMetadata("SnapLoaderNeeds"));
        Assert.AreEqual(9, task.OrderedFiles.Length);
        Assert.IsEmpty(engine.Warnings, engine.AllText);
    }

    [TestMethod]
    public void NeedsListSeveralLibrariesSeparatedBySemicolonsInNeededOrder()
    {
        var publish = new GccPublishFolder("analyze-needs");
        publish.Library("lib/libapp.so", "libapp.so", ["libzeta.so", "libalpha.so.1"], "$ORIGIN/../deps");
        publish.Library("deps/libzeta.so", "libzeta.so");
        publish.Library("deps/libalpha.so", "libalpha.so.1");
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, [publish.Moved("lib/libapp.so"), publish.Moved("deps/libzeta.so"), publish.Moved("deps/libalpha.so")]);

        Assert.IsTrue(task.Execute(), engine.AllText);

        Assert.AreEqual("deps/libzeta.so;deps/libalpha.so", Output(task, "lib/libapp.so").GetMetadata("SnapLoaderNeeds"));
        var order = task.OrderedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToList();
        Assert.AreEqual("lib/libapp.so", order[^1], "the archive's order still puts what a library needs first: " + string.Join(", ", order));
    }

    [TestMethod]
    public void EachGroupOfLibrariesSharingASonameIsReportedOnceAtHighImportance()
    {
        var (_, moved) = Variants();
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, moved);

        Assert.IsTrue(task.Execute(), engine.AllText);

        var groups = engine.Messages.Where(m => m.Message!.Contains("libraries with the SONAME", StringComparison.Ordinal)).ToList();
        Assert.HasCount(2, groups, engine.AllText);
        Assert.IsTrue(groups.All(m => m.Importance == MessageImportance.High));
        Assert.AreEqual(
            "SnapLoader moved 4 libraries with the SONAME libggml.so (runtimes/linux-x64/native/avx/, avx2/, avx512/, noavx/): " +
            "each loads only when its own loader opens it, with the libraries of its own folder.",
            groups.Single(m => m.Message!.Contains("SONAME libggml.so ", StringComparison.Ordinal)).Message);
        StringAssert.Contains(groups.Single(m => m.Message!.Contains("SONAME libggml-base.so ", StringComparison.Ordinal)).Message,
            "4 libraries with the SONAME libggml-base.so (runtimes/linux-x64/native/avx/, avx2/, avx512/, noavx/)");
        Assert.IsEmpty(engine.Warnings, "a group is a message, not a warning");
    }

    [TestMethod]
    public void NoGroupIsReportedWhenEverySonameIsUnique()
    {
        var publish = new GccPublishFolder("analyze-unique");
        publish.Library("liba.so", "liba.so");
        publish.Library("libb.so", "libb.so");
        publish.Library("libnone.so");
        publish.Library("libnone2.so");
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, [publish.Moved("liba.so"), publish.Moved("libb.so"), publish.Moved("libnone.so"), publish.Moved("libnone2.so")]);

        Assert.IsTrue(task.Execute(), engine.AllText);

        Assert.IsFalse(engine.Messages.Any(m => m.Message!.Contains("SONAME", StringComparison.Ordinal)), engine.AllText);
    }

    [TestMethod]
    public void GroupsNameTheFoldersOnceOrThePathsWhenTheFileNamesDiffer()
    {
        Assert.AreEqual("a/native/avx/, avx2/", AnalyzeNativeLibraries.DescribeGroup(["a/native/avx/libx.so", "a/native/avx2/libx.so"]));
        Assert.AreEqual("./, lib/", AnalyzeNativeLibraries.DescribeGroup(["libx.so", "lib/libx.so"]));
        Assert.AreEqual("lib/, lib/x/", AnalyzeNativeLibraries.DescribeGroup(["lib/libx.so", "lib/x/libx.so"]), "no folder is shortened to nothing");
        Assert.AreEqual("lib/libz.so, libz.so.1", AnalyzeNativeLibraries.DescribeGroup(["lib/libz.so", "lib/libz.so.1"]));
        Assert.AreEqual("a/libz.so, b/libz.so.1", AnalyzeNativeLibraries.DescribeGroup(["a/libz.so", "b/libz.so.1"]));
    }

    [TestMethod]
    public void LoadAtInitMarksTheLibrariesItsItemsMatchByGlobPathOrProjectFile()
    {
        var (publish, moved) = Variants();
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, moved,
            new TaskItem($"{Native}/avx2/*.so"),
            new TaskItem($"{Native}/noavx/libggml.so"),
            new TaskItem(Path.Combine(publish.Root, Native, "avx512", "libggml-base.so")));

        Assert.IsTrue(task.Execute(), engine.AllText);

        var atInit = task.OrderedFiles.Where(f => f.GetMetadata("SnapLoaderLoadAtInit") == "true").Select(f => f.GetMetadata("SnapLoaderRelativePath")).Order(StringComparer.Ordinal);
        ElfTestTools.AssertSequence(
            [$"{Native}/avx2/libggml-base.so", $"{Native}/avx2/libggml.so", $"{Native}/avx512/libggml-base.so", $"{Native}/noavx/libggml.so"],
            atInit, "marked to load at init");
        Assert.IsEmpty(engine.Warnings, engine.AllText);
    }

    [TestMethod]
    public void ALoadAtInitItemThatMatchesNoMovedLibraryIsWarnedWithItsCode()
    {
        var (_, moved) = Variants();
        var engine = new RecordingBuildEngine();
        var task = Analyze(engine, moved,
            new TaskItem($"{Native}/avx2/libllama.so"),
            new TaskItem("models/*.bin"),
            new TaskItem($"{Native}/avx/libggml.so"));

        Assert.IsTrue(task.Execute(), "a warning, not an error: " + engine.AllText);

        Assert.HasCount(2, engine.Warnings, engine.AllText);
        Assert.IsTrue(engine.Warnings.All(w => w.Code == "SNAP0009"), engine.AllText);
        StringAssert.Contains(engine.Warnings[0].Message, $"'{Native}/avx2/libllama.so' matches no moved library");
        StringAssert.Contains(engine.Warnings[1].Message, "'models/*.bin' matches only moved data files");
        Assert.AreEqual("true", Output(task, $"{Native}/avx/libggml.so").GetMetadata("SnapLoaderLoadAtInit"), "the matching item still counts");
        Assert.AreEqual("", Output(task, "models/model.bin").GetMetadata("SnapLoaderLoadAtInit"), "data never loads");
    }
}
