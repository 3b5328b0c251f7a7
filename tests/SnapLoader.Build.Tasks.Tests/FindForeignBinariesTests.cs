using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>Native files for other platforms, on Microsoft.ML.OnnxRuntime 1.31.1's real binaries and on made-up headers.</summary>
[TestClass]
public sealed class FindForeignBinariesTests
{
    private static string OnnxRuntime(string relativePath) => Path.Combine(TestPaths.Package("Microsoft.ML.OnnxRuntime", "1.31.1"), relativePath);

    [TestMethod]
    public void TellsWindowsMacAndOtherMachinesBinariesApart()
    {
        Assert.AreEqual("Windows PE, x86-64", ForeignBinary.Describe(OnnxRuntime("runtimes/win-x64/native/onnxruntime.dll"), ElfMachines.X86_64));
        Assert.AreEqual("Windows PE, ARM64", ForeignBinary.Describe(OnnxRuntime("runtimes/win-arm64/native/onnxruntime.dll"), ElfMachines.X86_64));
        Assert.AreEqual("macOS Mach-O, arm64", ForeignBinary.Describe(OnnxRuntime("runtimes/osx-arm64/native/libonnxruntime.dylib"), ElfMachines.X86_64));
        Assert.AreEqual("ELF, AArch64", ForeignBinary.Describe(TestPaths.OnnxRuntimeLibrary("linux-arm64"), ElfMachines.X86_64));
        Assert.AreEqual("ELF, x86-64", ForeignBinary.Describe(TestPaths.OnnxRuntimeLibrary("linux-x64"), ElfMachines.AArch64));
    }

    [TestMethod]
    public void TheRidsOwnLibrariesAndManagedAssembliesAreNotForeign()
    {
        Assert.IsNull(ForeignBinary.Describe(TestPaths.OnnxRuntimeLibrary("linux-x64"), ElfMachines.X86_64));
        Assert.IsNull(ForeignBinary.Describe(TestPaths.OnnxRuntimeLibrary("linux-arm64"), ElfMachines.AArch64));
        // PE files with a CLI header: IL only, and ReadyToRun (System.Private.CoreLib carries native code for this machine).
        Assert.IsNull(ForeignBinary.Describe(typeof(ForeignBinary).Assembly.Location, ElfMachines.X86_64));
        Assert.IsNull(ForeignBinary.Describe(typeof(object).Assembly.Location, ElfMachines.X86_64));
    }

    [TestMethod]
    public void DataIsNotForeign()
    {
        var folder = TestPaths.NewTempFolder("foreign");
        string Write(string name, byte[] bytes)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        Assert.IsNull(ForeignBinary.Describe(Write("model.onnx", new byte[4096]), ElfMachines.X86_64));
        Assert.IsNull(ForeignBinary.Describe(Write("empty", []), ElfMachines.X86_64));
        Assert.IsNull(ForeignBinary.Describe(Write("M", [(byte)'M']), ElfMachines.X86_64));
        Assert.IsNull(ForeignBinary.Describe(Write("notes.txt", "MZ is how this note starts, and it is no PE image at all."u8.ToArray()), ElfMachines.X86_64));
        // A Java class file has the universal binary's magic, followed by its version (52: Java 8) where a universal binary counts its architectures.
        Assert.IsNull(ForeignBinary.Describe(Write("Main.class", [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52, 0, 0]), ElfMachines.X86_64));
    }

    [TestMethod]
    public void AUniversalMachOBinaryIsForeign()
    {
        var folder = TestPaths.NewTempFolder("foreign");
        var path = Path.Combine(folder, "libuniversal.dylib");
        File.WriteAllBytes(path, [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2, 0, 0, 0, 0]);

        Assert.AreEqual("macOS Mach-O, universal", ForeignBinary.Describe(path, ElfMachines.X86_64));
    }

    [TestMethod]
    public void TheTaskReturnsTheForeignFilesWithTheirPathsSizesAndPlatforms()
    {
        var dll = OnnxRuntime("runtimes/win-x64/native/onnxruntime.dll");
        var engine = new RecordingBuildEngine();
        var task = new FindForeignBinaries
        {
            BuildEngine = engine,
            RuntimeIdentifier = "linux-x64",
            Files = [
                TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary("linux-x64"), "libonnxruntime.so"),
                TestItems.PublishItem(OnnxRuntime("runtimes/linux-arm64/native/libonnxruntime.so"), "runtimes/linux-arm64/native/libonnxruntime.so", "Microsoft.ML.OnnxRuntime", "1.31.1"),
                TestItems.PublishItem(dll, "onnxruntime.dll"),
                TestItems.PublishItem(typeof(ForeignBinary).Assembly.Location, "SnapLoader.Build.Tasks.dll"),
                TestItems.PublishItem("/nonexistent/Function.dll", "Function.dll"),
            ],
        };

        Assert.IsTrue(task.Execute(), engine.AllText);

        CollectionAssert.AreEqual(new[] { "onnxruntime.dll", "runtimes/linux-arm64/native/libonnxruntime.so" },
            task.ForeignFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray());
        Assert.AreEqual(new FileInfo(dll).Length.ToString(), task.ForeignFiles[0].GetMetadata("SnapLoaderSize"));
        Assert.AreEqual("Windows PE, x86-64", task.ForeignFiles[0].GetMetadata("SnapLoaderPlatform"));
        Assert.AreEqual("Microsoft.ML.OnnxRuntime", task.ForeignFiles[1].GetMetadata("NuGetPackageId"), "the SDK's metadata stays, for the deps.json rewrite");
        Assert.AreEqual(dll, task.ForeignFiles[0].ItemSpec, "the same item, so the targets can remove it from the publish set");
    }
}
