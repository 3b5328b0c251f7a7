namespace SnapLoader.Build.Tasks.Archive;

/// <summary>What the local and central headers of one entry are made from.</summary>
/// <param name="Name">The entry name, encoded (UTF-8, which is ASCII for ASCII names).</param>
/// <param name="Utf8">True when the name is not plain ASCII, so bit 11 must say it is UTF-8.</param>
/// <param name="Method">ZIP compression method.</param>
/// <param name="Crc32">CRC-32 of the original bytes.</param>
/// <param name="Size">Original length.</param>
/// <param name="CompressedSize">Length of the data as stored.</param>
/// <param name="LocalHeaderOffset">Where the local header starts.</param>
/// <param name="ForceZip64">Write Zip64 fields even where the classic ones would do (tests use it).</param>
internal readonly record struct ZipEntryHeader(
    byte[] Name,
    bool Utf8,
    ushort Method,
    uint Crc32,
    long Size,
    long CompressedSize,
    long LocalHeaderOffset,
    bool ForceZip64)
{
    public ushort Flags => Utf8 ? ZipFormat.Utf8NameFlag : (ushort)0;

    // Both sizes move to Zip64 together so the local and central headers always agree on where they are.
    public bool SizesInZip64 => ForceZip64 || Size >= ZipFormat.Marker32 || CompressedSize >= ZipFormat.Marker32;

    public bool OffsetInZip64 => ForceZip64 || LocalHeaderOffset >= ZipFormat.Marker32;

    /// <summary>Length of the local header as <see cref="ZipRecords.LocalFileHeader"/> writes it.</summary>
    public int LocalHeaderLength => ZipFormat.LocalFileHeaderLength + Name.Length + (SizesInZip64 ? 20 : 0);
}
