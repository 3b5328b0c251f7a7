using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// ElfFile on a big-endian file. No big-endian toolchain is at hand, so the test turns a real little-endian ELF64
/// library into one: it reverses the bytes of every field ElfFile reads (ELF header, program and section headers,
/// dynamic entries). The other sections stay little-endian garbage, which also shows that they are never read.
/// </summary>
[TestClass]
public sealed class ElfFileByteOrderTests
{
    private static readonly int[] s_headerFields = [16, 2, 18, 2, 20, 4, 24, 8, 32, 8, 40, 8, 48, 4, 52, 2, 54, 2, 56, 2, 58, 2, 60, 2, 62, 2];
    private static readonly int[] s_sectionHeaderFields = [0, 4, 4, 4, 8, 8, 16, 8, 24, 8, 32, 8, 40, 4, 44, 4, 48, 8, 56, 8];
    private static readonly int[] s_programHeaderFields = [0, 4, 4, 4, 8, 8, 16, 8, 24, 8, 32, 8, 40, 8, 48, 8];

    [TestMethod]
    [DataRow("libtorch.so")]
    [DataRow("libgomp-98b21ff3.so.1")]
    [DataRow("libc10.so")]
    public void BigEndianCopyOfARealLibraryGivesTheSameFacts(string fileName)
    {
        var original = Path.Combine(TestPaths.LibTorchNativeFolder, fileName);
        var bigEndian = Path.Combine(TestPaths.NewTempFolder("elf-big-endian"), fileName);
        File.WriteAllBytes(bigEndian, ToBigEndian(File.ReadAllBytes(original)));

        var expected = ElfFile.Read(original);
        var actual = ElfFile.Read(bigEndian);

        Assert.AreEqual(expected.Machine, actual.Machine);
        Assert.IsTrue(actual.Is64Bit);
        Assert.AreEqual(expected.Soname, actual.Soname);
        Assert.IsNotEmpty(actual.Needed);
        AssertSequence(expected.Needed, actual.Needed, "NEEDED");
        AssertSequence(expected.Runpath, actual.Runpath, "RUNPATH");
    }

    private static byte[] ToBigEndian(byte[] elf)
    {
        Assert.AreEqual(2, elf[4], "ELF64 expected");
        Assert.AreEqual(1, elf[5], "little-endian expected");
        var programHeaders = (int)BitConverter.ToUInt64(elf, 32);
        var programHeaderSize = BitConverter.ToUInt16(elf, 54);
        var programHeaderCount = BitConverter.ToUInt16(elf, 56);
        var sectionHeaders = (int)BitConverter.ToUInt64(elf, 40);
        var sectionHeaderSize = BitConverter.ToUInt16(elf, 58);
        var sectionHeaderCount = BitConverter.ToUInt16(elf, 60);

        var swapped = (byte[])elf.Clone();
        swapped[5] = 2;
        Reverse(swapped, 0, s_headerFields);
        for (var index = 0; index < programHeaderCount; index++)
        {
            Reverse(swapped, programHeaders + index * programHeaderSize, s_programHeaderFields);
        }
        for (var index = 0; index < sectionHeaderCount; index++)
        {
            var entry = sectionHeaders + index * sectionHeaderSize;
            if (BitConverter.ToUInt32(elf, entry + 4) == 6)   // SHT_DYNAMIC: its entries are pairs of 8-byte words
            {
                var offset = (int)BitConverter.ToUInt64(elf, entry + 24);
                var size = (int)BitConverter.ToUInt64(elf, entry + 32);
                for (var word = offset; word < offset + size; word += 8)
                {
                    Array.Reverse(swapped, word, 8);
                }
            }
            Reverse(swapped, entry, s_sectionHeaderFields);
        }
        return swapped;
    }

    /// <summary>Reverses the bytes of each (offset, size) field, offsets relative to <paramref name="start"/>.</summary>
    private static void Reverse(byte[] bytes, int start, int[] fields)
    {
        for (var field = 0; field < fields.Length; field += 2)
        {
            Array.Reverse(bytes, start + fields[field], fields[field + 1]);
        }
    }
}
