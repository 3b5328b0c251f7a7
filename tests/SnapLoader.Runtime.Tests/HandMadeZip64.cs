using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// One stored entry in a Zip64 archive written field by field (APPNOTE 4.3.7, 4.3.12, 4.3.14-16, 4.5.3): every size and
/// offset lives in a 64-bit field, so a test can set any of them to a value near <see cref="long.MaxValue"/> that no
/// tool would write. Each override is <see langword="null"/> for the true value.
/// </summary>
internal sealed class HandMadeZip64
{
    public const string EntryName = "lib/a.bin";

    /// <summary>The entry's content.</summary>
    public required byte[] Content { get; init; }

    /// <summary>The uncompressed size in the central record's Zip64 field.</summary>
    public long? Size { get; init; }

    /// <summary>The compressed size in the central record's Zip64 field.</summary>
    public long? CompressedSize { get; init; }

    /// <summary>The local header's offset in the central record's Zip64 field.</summary>
    public long? LocalHeaderOffset { get; init; }

    /// <summary>Where the Zip64 end locator says the Zip64 end record is.</summary>
    public long? Zip64EndOffset { get; init; }

    /// <summary>The central directory's offset in the Zip64 end record.</summary>
    public long? DirectoryOffset { get; init; }

    /// <summary>The central directory's length in the Zip64 end record.</summary>
    public long? DirectoryLength { get; init; }

    /// <summary>The entry count (on this disk and in all) in the Zip64 end record.</summary>
    public long? EntryCount { get; init; }

    public byte[] ToBytes()
    {
        var name = Encoding.ASCII.GetBytes(EntryName);
        var crc = Crc32.HashToUInt32(Content);
        using var output = new MemoryStream();
        var writer = new BinaryWriter(output);

        // Local header: 32-bit sizes saturated, the real ones in a Zip64 extra field (sizes only, 4.5.3).
        writer.Write(0x04034B50u);
        writer.Write((ushort)45);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(0u);
        writer.Write(crc);
        writer.Write(uint.MaxValue);
        writer.Write(uint.MaxValue);
        writer.Write((ushort)name.Length);
        writer.Write((ushort)20);
        writer.Write(name);
        writer.Write((ushort)1);
        writer.Write((ushort)16);
        writer.Write((long)Content.Length);
        writer.Write((long)Content.Length);
        writer.Write(Content);

        var directoryOffset = output.Position;
        writer.Write(0x02014B50u);
        writer.Write((ushort)((3 << 8) | 45));
        writer.Write((ushort)45);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(0u);
        writer.Write(crc);
        writer.Write(uint.MaxValue);
        writer.Write(uint.MaxValue);
        writer.Write((ushort)name.Length);
        writer.Write((ushort)28);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(0x81A4u << 16);
        writer.Write(uint.MaxValue);
        writer.Write(name);
        writer.Write((ushort)1);
        writer.Write((ushort)24);
        writer.Write(Size ?? Content.Length);
        writer.Write(CompressedSize ?? Content.Length);
        writer.Write(LocalHeaderOffset ?? 0L);
        var directoryLength = output.Position - directoryOffset;

        var zip64End = output.Position;
        writer.Write(0x06064B50u);
        writer.Write(44L);
        writer.Write((ushort)((3 << 8) | 45));
        writer.Write((ushort)45);
        writer.Write(0u);
        writer.Write(0u);
        writer.Write(EntryCount ?? 1L);
        writer.Write(EntryCount ?? 1L);
        writer.Write(DirectoryLength ?? directoryLength);
        writer.Write(DirectoryOffset ?? directoryOffset);

        writer.Write(0x07064B50u);
        writer.Write(0u);
        writer.Write(Zip64EndOffset ?? zip64End);
        writer.Write(1u);

        writer.Write(0x06054B50u);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(ushort.MaxValue);
        writer.Write(ushort.MaxValue);
        writer.Write(uint.MaxValue);
        writer.Write(uint.MaxValue);
        writer.Write((ushort)0);
        writer.Flush();
        return output.ToArray();
    }
}
