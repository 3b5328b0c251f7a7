using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>ElfFile on libraries gcc builds here, where SONAME, NEEDED, RUNPATH and RPATH are chosen by the test.</summary>
[TestClass]
public sealed class ElfFileGccTests
{
    private static ElfFacts Read(string fileName) => ElfFile.Read(Path.Combine(ChainFolder, fileName));

    [TestMethod]
    public void RunpathFromEnableNewDtags()
    {
        var facts = Read("libsnapb.so");

        Assert.AreEqual(HostMachine, facts.Machine);
        Assert.IsTrue(facts.Is64Bit);
        Assert.AreEqual("libsnapb.so", facts.Soname);
        AssertSequence(["libsnapc.so.1"], facts.Needed, "NEEDED");
        AssertSequence(["$ORIGIN"], facts.Runpath, "RUNPATH");
        AssertSequence([], facts.Rpath, "RPATH");
    }

    [TestMethod]
    public void RpathFromDisableNewDtagsSplitOnColons()
    {
        var facts = Read("libsnapa.so");

        Assert.AreEqual("libsnapa.so", facts.Soname);
        AssertSequence(["libsnapb.so", "libnosoname.so"], facts.Needed, "NEEDED in link order");
        AssertSequence(["$ORIGIN", "/opt/snap/lib"], facts.Rpath, "RPATH");
        AssertSequence([], facts.Runpath, "RUNPATH");
    }

    [TestMethod]
    public void SonameThatDiffersFromTheFileName()
    {
        var facts = Read("libsnapc.so");

        Assert.AreEqual("libsnapc.so.1", facts.Soname);
        AssertSequence([], facts.Needed, "NEEDED");
    }

    [TestMethod]
    public void NoSoname()
    {
        var facts = Read("libnosoname.so");

        Assert.IsNull(facts.Soname);
        AssertSequence([], facts.Needed, "NEEDED");
        AssertSequence([], facts.Runpath, "RUNPATH");
    }

    [TestMethod]
    public void ThirtyTwoBit()
    {
        RequireGcc();
        if (HostMachine != ElfMachines.X86_64)
        {
            Assert.Inconclusive("gcc -m32 builds i386 libraries on x86-64 hosts only.");
        }
        var folder = TestPaths.NewTempFolder("elf-32");
        if (TryBuildLibrary(folder, "lib32b.so", "int b32(void) { return 2; }\n", "-m32", "-Wl,-soname,lib32b.so") is { } error)
        {
            Assert.Inconclusive($"This gcc cannot build 32-bit libraries: {error}");
        }
        BuildLibrary(folder, "lib32a.so", "int b32(void);\nint a32(void) { return b32(); }\n",
            "-m32", "lib32b.so", "-Wl,-soname,lib32a.so.2", "-Wl,-rpath,$ORIGIN/lib:/usr/lib32", "-Wl,--enable-new-dtags");

        var facts = ElfFile.Read(Path.Combine(folder, "lib32a.so"));

        Assert.AreEqual(ElfMachines.I386, facts.Machine);
        Assert.AreEqual("i386", facts.MachineName);
        Assert.IsFalse(facts.Is64Bit);
        Assert.AreEqual("lib32a.so.2", facts.Soname);
        AssertSequence(["lib32b.so"], facts.Needed, "NEEDED");
        AssertSequence(["$ORIGIN/lib", "/usr/lib32"], facts.Runpath, "RUNPATH");
    }

    [TestMethod]
    public void EveryBuiltLibraryMatchesReadelf()
    {
        foreach (var path in Directory.GetFiles(ChainFolder, "*.so").Concat(Directory.GetFiles(CycleFolder, "*.so")))
        {
            var expected = Readelf(path);
            var actual = ElfFile.Read(path);
            Assert.AreEqual(expected.Soname, actual.Soname, path);
            AssertSequence(expected.Needed, actual.Needed, $"NEEDED of {path}");
            AssertSequence(expected.Runpath, actual.Runpath, $"RUNPATH of {path}");
            AssertSequence(expected.Rpath, actual.Rpath, $"RPATH of {path}");
        }
    }

    [TestMethod]
    public void ObjectFileWithoutDynamicSectionHasNoDependencies()
    {
        RequireGcc();
        var folder = TestPaths.NewTempFolder("elf-object");
        File.WriteAllText(Path.Combine(folder, "plain.c"), "int plain(void) { return 5; }\n");
        var result = ProcessRunner.Run("gcc", ["-c", "-fPIC", "-o", "plain.o", "plain.c"], folder);
        Assert.AreEqual(0, result.ExitCode, result.Output);

        var facts = ElfFile.Read(Path.Combine(folder, "plain.o"));

        Assert.AreEqual(HostMachine, facts.Machine);
        Assert.IsNull(facts.Soname);
        AssertSequence([], facts.Needed, "NEEDED");
    }
}
