using System.Buffers.Binary;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// <see cref="ZstdSeekTable"/>, the seekable format's layout that the build writes with and the runtime reads with
/// (src/Shared, compiled into both). The runtime's reading of whole entries is in its <c>ZstdFrameTests</c>.
/// </summary>
[TestClass]
public sealed class ZstdSeekTableTests
{
    [TestMethod]
    public void ATableIsASkippableFrameOfItsRecordsThatEndsWithItsFooter()
    {
        (long, long)[] frames = [(1000, 32 << 20), (999, 32 << 20), (7, 5)];

        var table = ZstdSeekTable.Build(frames);

        Assert.AreEqual(8 + 3 * 8 + 9, table.Length);
        Assert.AreEqual(ZstdSeekTable.Length(3), table.Length);
        Assert.AreEqual(0x184D2A5Eu, BinaryPrimitives.ReadUInt32LittleEndian(table));
        Assert.AreEqual((uint)(table.Length - 8), BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(4)), "the skippable frame's size covers the rest");
        Assert.AreEqual(999u, BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(8 + 8)));
        Assert.AreEqual(5u, BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(8 + 16 + 4)));
        Assert.IsTrue(ZstdSeekTable.TryReadFooter(table.AsSpan(table.Length - ZstdSeekTable.FooterSize), out var count, out var descriptor));
        Assert.AreEqual(3u, count);
        Assert.AreEqual(0, descriptor, "no checksums: SHA-256 covers the file");
        Assert.AreEqual(ZstdSeekTable.EntrySize, ZstdSeekTable.EntrySizeOf(descriptor));
    }

    [TestMethod]
    public void AFooterWithoutTheSeekableMagicIsNoTable()
    {
        var table = ZstdSeekTable.Build([(10, 20)]);
        table[^1] ^= 0xFF;

        Assert.IsFalse(ZstdSeekTable.TryReadFooter(table.AsSpan(table.Length - ZstdSeekTable.FooterSize), out _, out _));
        Assert.IsFalse(ZstdSeekTable.TryReadFooter(table.AsSpan(0, 4), out _, out _), "too short to be a footer");
    }

    [TestMethod]
    public void TheChecksumFlagMakesRecordsTwelveBytes()
    {
        Assert.AreEqual(12, ZstdSeekTable.EntrySizeOf(ZstdSeekTable.ChecksumFlag));
        Assert.AreEqual(8 + 2L * 12 + 9, ZstdSeekTable.Length(2, ZstdSeekTable.EntrySizeOf(ZstdSeekTable.ChecksumFlag)));
    }

    [TestMethod]
    public void AFrameOver4GiBCannotBeWritten() =>
        Assert.ThrowsExactly<OverflowException>(() => ZstdSeekTable.Build([(1, 1L << 32)]));
}
