namespace SnapLoader.Runtime;

/// <summary>One entry of an archive's central directory, validated by <see cref="ZipDirectory"/>.</summary>
/// <param name="Name">The entry name (a publish-relative path with forward slashes).</param>
/// <param name="Method">ZIP compression method: 0 stored, 8 deflate, 93 zstd.</param>
/// <param name="Crc32">The CRC-32 of the uncompressed content, from the central directory.</param>
/// <param name="CompressedSize">Length of the entry's data in the archive.</param>
/// <param name="Size">Uncompressed length.</param>
/// <param name="LocalHeaderOffset">Where the entry's local file header starts.</param>
/// <param name="IsDirectory">The name ends with '/': a folder entry, which has no content to load.</param>
/// <param name="NameLength">Length of the encoded name, which the local header must repeat.</param>
internal sealed record ZipEntryRecord(
    string Name,
    ushort Method,
    uint Crc32,
    long CompressedSize,
    long Size,
    long LocalHeaderOffset,
    bool IsDirectory,
    int NameLength);
