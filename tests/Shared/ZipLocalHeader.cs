using System.Buffers.Binary;

namespace SnapLoader.Tests;

/// <summary>An entry's local header (APPNOTE 4.3.7) as <see cref="ZipListing"/> reads it, with where its parts lie.</summary>
/// <param name="Offset">Where the header starts: its signature.</param>
/// <param name="Method">The compression method.</param>
/// <param name="Crc32">The CRC-32 (0 when a data descriptor follows the data).</param>
/// <param name="NameLength">The length of the name after the 30 fixed bytes.</param>
/// <param name="ExtraLength">The length of the extra field after the name.</param>
internal sealed record ZipLocalHeader(long Offset, ushort Method, uint Crc32, int NameLength, int ExtraLength)
{
    public const int FixedLength = 30;
    public const uint Signature = 0x04034B50;

    /// <summary>Where the extra field starts.</summary>
    public long ExtraOffset => Offset + FixedLength + NameLength;

    /// <summary>Where the entry's (compressed) data starts.</summary>
    public long DataOffset => ExtraOffset + ExtraLength;

    /// <summary>Reads the local header at <paramref name="offset"/>; throws if no local header starts there.</summary>
    public static ZipLocalHeader Read(Stream archive, long offset)
    {
        var header = new byte[FixedLength];
        archive.Position = offset;
        archive.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Signature)
        {
            throw new InvalidDataException($"No local header at {offset}.");
        }
        return new ZipLocalHeader(offset,
            BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(14)),
            BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26)), BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28)));
    }
}
