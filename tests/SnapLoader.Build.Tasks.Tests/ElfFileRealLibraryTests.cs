using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>ElfFile on the real payloads restored from NuGet; the expected values were checked with readelf -d.</summary>
[TestClass]
public sealed class ElfFileRealLibraryTests
{
    private static string LibTorch(string fileName) => Path.Combine(TestPaths.LibTorchNativeFolder, fileName);

    [TestMethod]
    public void OnnxRuntimeX64()
    {
        var path = TestPaths.OnnxRuntimeLibrary("linux-x64");

        var facts = ElfFile.Read(path);

        Assert.AreEqual(path, facts.Path);
        Assert.AreEqual(ElfMachines.X86_64, facts.Machine);
        Assert.AreEqual("x86-64", facts.MachineName);
        Assert.IsTrue(facts.Is64Bit);
        Assert.AreEqual("libonnxruntime.so.1", facts.Soname);
        AssertSequence(
            ["libdl.so.2", "librt.so.1", "libpthread.so.0", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6", "ld-linux-x86-64.so.2"],
            facts.Needed, "NEEDED");
        AssertSequence(["$ORIGIN"], facts.Runpath, "RUNPATH");
        AssertSequence([], facts.Rpath, "RPATH");
    }

    [TestMethod]
    public void OnnxRuntimeArm64()
    {
        var facts = ElfFile.Read(TestPaths.OnnxRuntimeLibrary("linux-arm64"));

        Assert.AreEqual(ElfMachines.AArch64, facts.Machine);
        Assert.AreEqual("AArch64", facts.MachineName);
        Assert.IsTrue(facts.Is64Bit);
        Assert.AreEqual("libonnxruntime.so.1", facts.Soname);
        AssertSequence(
            ["libdl.so.2", "librt.so.1", "libpthread.so.0", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6", "ld-linux-aarch64.so.1"],
            facts.Needed, "NEEDED");
        AssertSequence(["$ORIGIN"], facts.Runpath, "RUNPATH");
    }

    [TestMethod]
    public void LibGompSonameDiffersFromItsFileName()
    {
        // patchelf put its RUNPATH before the NEEDED entries: the order of tags must not matter.
        var facts = ElfFile.Read(LibTorch("libgomp-98b21ff3.so.1"));

        Assert.AreEqual("libgomp.so.1", facts.Soname);
        AssertSequence(["libdl.so.2", "libpthread.so.0", "libc.so.6"], facts.Needed, "NEEDED");
        AssertSequence(["$ORIGIN"], facts.Runpath, "RUNPATH");
    }

    [TestMethod]
    public void LibTorchCpuNeedsLibGompByFileName()
    {
        var facts = ElfFile.Read(LibTorch("libtorch_cpu.so"));

        Assert.AreEqual(ElfMachines.X86_64, facts.Machine);
        Assert.AreEqual("libtorch_cpu.so", facts.Soname);
        AssertSequence(
            ["libc10.so", "librt.so.1", "libgcc_s.so.1", "libdl.so.2", "libpthread.so.0", "libm.so.6", "libgomp-98b21ff3.so.1", "libstdc++.so.6", "libc.so.6", "ld-linux-x86-64.so.2"],
            facts.Needed, "NEEDED");
    }

    [TestMethod]
    public void ReadingLibTorchCpuReadsLittleOfIts461Megabytes()
    {
        var path = LibTorch("libtorch_cpu.so");
        ElfFile.Read(path);   // JIT out of the way, so the figure below is about the reading itself

        var before = GC.GetAllocatedBytesForCurrentThread();
        ElfFile.Read(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Its .dynstr is 7 MB and gets read whole. ELFSharp left to itself decodes .symtab (533,000 symbols) and the
        // 79 MB .strtab too: 490 MB allocated and 1.5 s.
        Assert.IsTrue(allocated < 16L << 20, $"Reading libtorch_cpu.so allocated {allocated / 1048576.0:F1} MB.");
    }

    [TestMethod]
    public void EveryRealLibraryMatchesReadelf()
    {
        var paths = Directory.GetFiles(TestPaths.LibTorchNativeFolder)
            .Append(TestPaths.OnnxRuntimeLibrary("linux-x64"))
            .Append(TestPaths.OnnxRuntimeLibrary("linux-arm64"))
            .Order(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var expected = Readelf(path);
            var actual = ElfFile.Read(path);
            Assert.AreEqual(expected.Is64Bit, actual.Is64Bit, path);
            Assert.AreEqual(expected.Soname, actual.Soname, path);
            AssertSequence(expected.Needed, actual.Needed, $"NEEDED of {path}");
            AssertSequence(expected.Runpath, actual.Runpath, $"RUNPATH of {path}");
            AssertSequence(expected.Rpath, actual.Rpath, $"RPATH of {path}");
        }
    }

    [TestMethod]
    public void IsElfOnRealLibraries()
    {
        Assert.IsTrue(ElfFile.IsElf(LibTorch("libtorch_cpu.so")));
        Assert.IsTrue(ElfFile.IsElf(TestPaths.OnnxRuntimeLibrary("linux-arm64")));
        Assert.IsFalse(ElfFile.IsElf(TestPaths.ResNet18Model));
    }
}
