using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>LoadOrder on libtorch's native folder and on libraries gcc builds here.</summary>
[TestClass]
public sealed class LoadOrderRealLibraryTests
{
    private static List<string> SortFolder(string folder, out LoadOrderResult<string> result)
    {
        var files = Directory.GetFiles(folder).Where(ElfFile.IsElf).ToArray();
        result = LoadOrder.Sort(files, file => Path.GetFileName(file), ElfFile.Read);
        Assert.HasCount(files.Length, result.Ordered);
        return result.Ordered.Select(file => Path.GetFileName(file)).ToList();
    }

    private static void AssertBefore(List<string> order, string first, string then)
    {
        var firstAt = order.IndexOf(first);
        var thenAt = order.IndexOf(then);
        Assert.IsTrue(firstAt >= 0 && thenAt > firstAt, $"{first} must come before {then} in: {string.Join(" ", order)}");
    }

    [TestMethod]
    public void LibTorch()
    {
        var order = SortFolder(TestPaths.LibTorchNativeFolder, out var result);

        AssertBefore(order, "libgomp-98b21ff3.so.1", "libtorch_cpu.so");
        AssertBefore(order, "libc10.so", "libtorch_cpu.so");
        // The two below contradict alphabetical order ("libtorch.so" < "libtorch_cpu.so", "libshm.so" < "libtorch_cpu.so").
        AssertBefore(order, "libtorch_cpu.so", "libtorch.so");
        AssertBefore(order, "libtorch_cpu.so", "libshm.so");
        AssertBefore(order, "libshm.so", "libtorch_python.so");
        AssertBefore(order, "libtorch_python.so", "libnnapi_backend.so");
        Assert.IsEmpty(result.Cycles);
    }

    [TestMethod]
    public void GccChain()
    {
        var order = SortFolder(ChainFolder, out var result);

        // libsnapb.so needs libsnapc.so by its SONAME libsnapc.so.1; libsnapa.so needs libnosoname.so by file name.
        AssertSequence(["libnosoname.so", "libsnapc.so", "libsnapb.so", "libsnapa.so"], order, "load order");
        Assert.IsEmpty(result.Cycles);
    }

    [TestMethod]
    public void GccCycle()
    {
        var order = SortFolder(CycleFolder, out var result);

        AssertSequence(["libcyclea.so", "libcycleb.so", "libapp.so"], order, "load order");
        Assert.HasCount(1, result.Cycles);
        AssertSequence(["libcyclea.so", "libcycleb.so"], result.Cycles[0], "the cycle");
    }
}
