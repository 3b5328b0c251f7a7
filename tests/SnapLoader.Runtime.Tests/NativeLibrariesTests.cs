using System.Runtime.InteropServices;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
public sealed partial class NativeLibrariesTests
{
    // Resolved by SnapLoader's ResolvingUnmanagedDll handler: no libonnxruntime.so is on disk where .NET probes.
    [DllImport("onnxruntime", EntryPoint = "OrtGetApiBase")]
    private static extern nint OrtGetApiBase();

    private static MemoryFile SealedCopyOf(string path)
    {
        var file = MemoryFile.Create(Path.GetFileName(path), new FileInfo(path).Length);
        using var source = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        long offset = 0;
        int read;
        while ((read = source.Read(buffer)) > 0)
        {
            file.Write(offset, buffer.AsSpan(0, read));
            offset += read;
        }
        file.Seal();
        return file;
    }

    [TestMethod]
    public void ADeclaredLibraryLoadsWhenDllImportFirstAsksForIt()
    {
        var root = Path.Combine(TestPaths.NewTempFolder("native"), "links");
        var memory = SealedCopyOf(TestPaths.OnnxRuntimeLibrary());
        var file = new MovedFile("libonnxruntime.so", memory.Length, new string('0', 64), MovedFileKind.NativeLibrary, "libonnxruntime.so.1");
        SymlinkFarm.Create(root, [(file.RelativePath, memory)]);

        var declared = NativeLibraries.Declare([new MovedLibrary(file, "/nowhere/libonnxruntime.so", Path.Combine(root, file.RelativePath))]);

        CollectionAssert.AreEqual(declared.ToList(), NativeLibraries.Candidates("onnxruntime").ToList());
        Assert.AreNotEqual(0, OrtGetApiBase(), "[DllImport(\"onnxruntime\")] must reach the library loaded from memory");
        StringAssert.Contains(File.ReadAllText("/proc/self/maps"), "/memfd:libonnxruntime.so", "the code is mapped from the memory file");
        Assert.AreEqual(NativeLibraries.Load(declared[0]), NativeLibraries.Load(declared[0]), "loaded once");
    }

    [TestMethod]
    public void ANameThatSeveralMovedLibrariesAnswerToIsNotResolved()
    {
        // A package's CPU variants: one SONAME, one file name, several folders. Only their package knows which one.
        var root = Path.Combine(TestPaths.NewTempFolder("variants"), "links");
        var avx = new MovedFile("runtimes/avx/libvariant-test.so", 1, new string('0', 64), MovedFileKind.NativeLibrary, "libvariant-test.so");
        var noavx = new MovedFile("runtimes/noavx/libvariant-test.so", 1, new string('0', 64), MovedFileKind.NativeLibrary, "libvariant-test.so");
        NativeLibraries.Declare([
            new MovedLibrary(avx, "/nowhere/" + avx.RelativePath, Path.Combine(root, avx.RelativePath)),
            new MovedLibrary(noavx, "/nowhere/" + noavx.RelativePath, Path.Combine(root, noavx.RelativePath)),
        ]);

        Assert.AreEqual(2, NativeLibraries.Candidates("variant-test").Count);
        Assert.IsFalse(NativeLibrary.TryLoad("variant-test", typeof(NativeLibrariesTests).Assembly, null, out _),
            "the resolver answers nothing rather than pick a variant");
        Assert.AreEqual(1, NativeLibraries.Candidates("runtimes/noavx/libvariant-test.so").Count, "a relative path names one");
    }
}
