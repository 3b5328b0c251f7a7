using System.Runtime.InteropServices;

namespace SnapLoader.Runtime.Tests;

[TestClass]
public sealed partial class MemoryFileTests
{
    private const int EPERM = 1;

    [TestMethod]
    public void WrittenContentReadsBackThroughProcPath()
    {
        var content = new byte[3 << 20];
        new Random(7).NextBytes(content);
        using var file = MemoryFile.Create("lib/libexample.so", content.Length);
        // Out of order, as parallel ranges arrive.
        file.Write(2 << 20, content.AsSpan(2 << 20));
        file.Write(0, content.AsSpan(0, 2 << 20));
        file.Seal();

        Assert.IsTrue(file.IsSealed);
        Assert.AreEqual(content.Length, file.Length);
        Assert.AreEqual($"/proc/self/fd/{file.Fd}", file.ProcPath);
        CollectionAssert.AreEqual(content, File.ReadAllBytes(file.ProcPath));
        Assert.AreEqual("/memfd:lib_libexample.so (deleted)", new FileInfo(file.ProcPath).LinkTarget);
    }

    [TestMethod]
    public unsafe void SealedFileRefusesWritesWithEperm()
    {
        using var file = MemoryFile.FromBytes("sealed", [1, 2, 3, 4]);
        Assert.IsTrue(file.IsSealed);

        byte value = 9;
        var written = PWrite(file.Fd, &value, 1, 0);
        var errno = Marshal.GetLastPInvokeError();
        Assert.AreEqual(-1, (long)written, "pwrite to a sealed memfd must fail");
        Assert.AreEqual(EPERM, errno);

        Assert.AreEqual(-1, FTruncate(file.Fd, 100), "growing a sealed memfd must fail");
        Assert.AreEqual(EPERM, Marshal.GetLastPInvokeError());

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => file.Write(0, [5]));
        Assert.AreEqual(RuntimeErrorCodes.SealFailed, error.Code);
        StringAssert.Contains(error.Message, "errno 1");
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4 }, File.ReadAllBytes(file.ProcPath));

        // All four seals, read back by the test itself.
        Assert.AreEqual(0xF, Fcntl(file.Fd, 1034, 0));
    }

    [TestMethod]
    public void DisposeClosesTheDescriptor()
    {
        var file = MemoryFile.Create("closing", 10);
        var path = file.ProcPath;
        Assert.IsTrue(File.Exists(path));
        file.Dispose();
        Assert.AreEqual(-1, file.Fd);
        Assert.IsFalse(TestArchives.OpenMemfds().Any(l => l.Contains("/memfd:closing", StringComparison.Ordinal)));
        file.Dispose();
    }

    [TestMethod]
    public void WriteOutsideTheLengthIsRefused()
    {
        using var file = MemoryFile.Create("bounds", 10);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => file.Write(8, [1, 2, 3]));
    }

    [TestMethod]
    public void LongNamesAreCutFromTheFront()
    {
        using var file = MemoryFile.Create(new string('a', 400) + "/libtail.so", 1);
        Assert.IsTrue(file.Name.EndsWith("_libtail.so", StringComparison.Ordinal));
        Assert.AreEqual(249, file.Name.Length);
    }

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
