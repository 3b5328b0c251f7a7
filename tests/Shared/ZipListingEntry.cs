namespace SnapLoader.Tests;

/// <summary>
/// One entry of an archive as <see cref="ZipListing"/> reads it: its central directory record (APPNOTE 4.3.12), with
/// the Zip64 values in place of the saturated ones, where that record and its parts lie, and its local header.
/// </summary>
/// <param name="Name">The name, decoded as UTF-8.</param>
/// <param name="Method">The compression method: 0 stored, 8 deflate, 93 zstd.</param>
/// <param name="Crc32">The CRC-32 of the uncompressed content.</param>
/// <param name="CompressedSize">The size of the data in the archive.</param>
/// <param name="Size">The size of the content.</param>
/// <param name="LocalHeaderOffset">Where the local header starts.</param>
/// <param name="CentralRecordOffset">Where the central directory record starts: its signature.</param>
/// <param name="CentralNameLength">The length of the name in the central record.</param>
/// <param name="CentralExtraLength">The length of the central record's extra field.</param>
/// <param name="CentralCommentLength">The length of the central record's comment.</param>
/// <param name="Local">The local header.</param>
internal sealed record ZipListingEntry(string Name, ushort Method, uint Crc32, long CompressedSize, long Size, long LocalHeaderOffset,
    long CentralRecordOffset, int CentralNameLength, int CentralExtraLength, int CentralCommentLength, ZipLocalHeader Local)
{
    public const int CentralFixedLength = 46;
    public const uint CentralSignature = 0x02014B50;

    /// <summary>Where the central record's extra field starts.</summary>
    public long CentralExtraOffset => CentralRecordOffset + CentralFixedLength + CentralNameLength;

    /// <summary>The length of the whole central record: fixed fields, name, extra field and comment.</summary>
    public int CentralRecordLength => CentralFixedLength + CentralNameLength + CentralExtraLength + CentralCommentLength;

    /// <summary>Where the entry's (compressed) data starts, after its local header.</summary>
    public long DataOffset => Local.DataOffset;
}
