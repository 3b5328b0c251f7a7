using System.Runtime.InteropServices;
using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class LambdaImageLibrariesTests
{
    [TestMethod]
    public void TheEmbeddedListHasGlibcAndTheCppRuntimeOnBothArchitecturesAndEachOnesOwnLoader()
    {
        var x64 = LambdaImageLibraries.For(ElfMachines.X86_64);
        var arm64 = LambdaImageLibraries.For(ElfMachines.AArch64);

        foreach (var soname in new[] { "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "libssl.so.3", "libcrypto.so.3", "libicuuc.so.67", "libcoreclr.so" })
        {
            Assert.IsTrue(x64.Contains(soname), $"{soname} on x86_64");
            Assert.IsTrue(arm64.Contains(soname), $"{soname} on aarch64");
        }
        Assert.IsTrue(x64.Contains("ld-linux-x86-64.so.2"));
        Assert.IsFalse(x64.Contains("ld-linux-aarch64.so.1"));
        Assert.IsTrue(arm64.Contains("ld-linux-aarch64.so.1"));
        Assert.IsFalse(arm64.Contains("ld-linux-x86-64.so.2"));
    }

    [TestMethod]
    public void WhatTheMinimalImageLacksIsNotInIt()
    {
        // What OpenCvSharp's libOpenCvSharpExtern.so needs and Lambda does not have, and GCC's libraries outside libstdc++.
        var x64 = LambdaImageLibraries.For(ElfMachines.X86_64);
        foreach (var soname in new[] { "libgtk-3.so.0", "libgdk-3.so.0", "libX11.so.6", "libcairo.so.2", "libpango-1.0.so.0", "libfreetype.so.6", "libharfbuzz.so.0", "libdrm.so.2", "libatomic.so.1", "libgomp.so.1", "libgfortran.so.5", "liblttng-ust.so.0" })
        {
            Assert.IsFalse(x64.Contains(soname), soname);
        }
    }

    [TestMethod]
    public void EveryDependencyOfOnnxRuntimeIsInTheImage()
    {
        foreach (var (rid, machine) in new[] { ("linux-x64", ElfMachines.X86_64), ("linux-arm64", ElfMachines.AArch64) })
        {
            var image = LambdaImageLibraries.For(machine);
            var needed = ElfFile.Read(TestPaths.OnnxRuntimeLibrary(rid)).Needed;
            CollectionAssert.AreEqual(Array.Empty<string>(), needed.Where(n => !image.Contains(n)).ToArray(), rid);
        }
    }

    [TestMethod]
    public void EveryNativeLibraryOfTheDotNetRuntimeIsInTheImageAndNeedsOnlyTheImage()
    {
        // The runtime these tests run on is the dotnet10 image's: the same files under /var/lang/bin/shared.
        var runtime = RuntimeEnvironment.GetRuntimeDirectory();
        var machine = ElfTestTools.HostMachine;
        var image = LambdaImageLibraries.For(machine);
        var libraries = Directory.GetFiles(runtime, "*.so");
        Assert.IsTrue(libraries.Length >= 10, runtime);
        foreach (var library in libraries)
        {
            var facts = ElfFile.Read(library);
            Assert.IsTrue(image.Contains(facts.Soname ?? Path.GetFileName(library)), $"{Path.GetFileName(library)} is not in the list");
            var missing = facts.Needed.Where(n => !image.Contains(n)).ToArray();
            if (Path.GetFileName(library) == "libcoreclrtraceptprovider.so")
            {
                CollectionAssert.AreEqual(new[] { "liblttng-ust.so.0" }, missing, "coreclr loads its LTTng provider only where LTTng is installed");
                continue;
            }
            CollectionAssert.AreEqual(Array.Empty<string>(), missing, Path.GetFileName(library));
        }
    }

    [TestMethod]
    public void ALineNamesItsArchitecturesAndCommentsAreIgnored()
    {
        var entries = LambdaImageLibraries.Parse("# a comment\n\nlibc.so.6\nld-linux-x86-64.so.2   x86_64 # the loader\r\nlibboth.so.1 x86_64 aarch64\n");

        CollectionAssert.AreEquivalent(new[] { "libc.so.6", "ld-linux-x86-64.so.2", "libboth.so.1" }, LambdaImageLibraries.For(entries, ElfMachines.X86_64).ToArray());
        CollectionAssert.AreEquivalent(new[] { "libc.so.6", "libboth.so.1" }, LambdaImageLibraries.For(entries, ElfMachines.AArch64).ToArray());
        CollectionAssert.AreEquivalent(new[] { "libc.so.6" }, LambdaImageLibraries.For(entries, ElfMachines.I386).ToArray(), "a machine Lambda does not run gets the common entries only");
    }

    [TestMethod]
    public void AnUnknownArchitectureOrARepeatedNameIsABugInTheList()
    {
        var unknown = Assert.ThrowsExactly<InvalidDataException>(() => LambdaImageLibraries.Parse("libc.so.6 amd64\n"));
        StringAssert.Contains(unknown.Message, "Line 1");
        StringAssert.Contains(unknown.Message, "'amd64'");

        var repeated = Assert.ThrowsExactly<InvalidDataException>(() => LambdaImageLibraries.Parse("libc.so.6\nlibm.so.6\nlibc.so.6 x86_64\n"));
        StringAssert.Contains(repeated.Message, "Line 3");

        // The same name once per architecture is no repetition.
        Assert.AreEqual(2, LambdaImageLibraries.Parse("ld.so.1 x86_64\nld.so.1 aarch64\n").Count);
    }
}
