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
    public void OnnxRuntimeLoadsFromItsMemoryFileAndServesDllImport()
    {
        var root = Path.Combine(TestPaths.NewTempFolder("native"), "links");
        var memory = SealedCopyOf(TestPaths.OnnxRuntimeLibrary());
        var file = new MovedFile("libonnxruntime.so", memory.Length, new string('0', 64), MovedFileKind.NativeLibrary, "libonnxruntime.so.1");
        SymlinkFarm.Create(root, [(file.RelativePath, memory)]);

        Assert.AreEqual(1, NativeLibraries.LoadInOrder([(file, Path.Combine(root, file.RelativePath))]));

        Assert.IsTrue(NativeLibraries.TryGet("onnxruntime", out var handle));
        Assert.AreNotEqual(0, NativeLibrary.GetExport(handle, "OrtGetApiBase"));
        Assert.AreNotEqual(0, OrtGetApiBase(), "[DllImport(\"onnxruntime\")] must reach the library loaded from memory");
        var maps = File.ReadAllText("/proc/self/maps");
        StringAssert.Contains(maps, "/memfd:libonnxruntime.so", "the code is mapped from the memory file");
    }

    // The libtorch set is loaded in order by S3ArchiveSourceTests; a second copy of libtorch_cpu in the same process
    // aborts in its static registrations, so it is not loaded here again.
}
