namespace SnapLoader.Build.Tasks.Archive;

/// <summary>One entry as written, with what the runtime needs to fetch and check it by byte range.</summary>
/// <param name="EntryName">The name inside the archive.</param>
/// <param name="Size">Length of the original file in bytes.</param>
/// <param name="CompressedSize">Length of the entry's data in the archive (equals <paramref name="Size"/> when stored).</param>
/// <param name="Sha256">SHA-256 of the original (uncompressed) file, lowercase hex.</param>
/// <param name="Crc32">The ZIP CRC-32 of the original file.</param>
/// <param name="Method">
/// The ZIP compression method actually used: 0 stored, 8 deflate, 93 zstd. An entry that would not get
/// smaller (or is empty) is stored whatever compression was asked for.
/// </param>
/// <param name="LocalHeaderOffset">Offset of the entry's local file header from the start of the archive.</param>
public sealed record ArchiveEntry(
    string EntryName,
    long Size,
    long CompressedSize,
    string Sha256,
    uint Crc32,
    ushort Method,
    long LocalHeaderOffset)
{
    /// <summary>
    /// Offset of the entry's first data byte (just past its local header), so a reader that trusts this
    /// record can fetch <c>[DataOffset, DataOffset + CompressedSize)</c> in one ranged GET.
    /// </summary>
    public long DataOffset { get; init; }
}
