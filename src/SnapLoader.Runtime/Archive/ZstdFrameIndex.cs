using System.Buffers.Binary;

namespace SnapLoader.Runtime;

/// <summary>One independent zstd frame of an entry: where its bytes are in the entry's data, and where its content goes in the file.</summary>
internal readonly record struct ZstdFrame(long CompressedOffset, int CompressedSize, long DecompressedOffset, int DecompressedSize);

/// <summary>
/// Reads the seek table that ends a zstd entry written as several frames (zstd's seekable format, from its
/// contrib/seekable_format; SnapLoader.Build writes it for files over 32 MiB), so the loader can decode the frames in
/// parallel. An entry without one (a single frame, as other zip tools write) is decoded as one stream.
/// </summary>
/// <remarks>The table's layout is <see cref="ZstdSeekTable"/>'s, which the build writes with.</remarks>
internal static class ZstdFrameIndex
{
    /// <summary>Most frames an entry may have: 2 TiB in the build's 32 MiB frames.</summary>
    private const int MaxFrames = 65536;

    /// <summary>
    /// Smaller entries are decoded as one stream whatever they hold: splitting them would not pay for the footer's
    /// extra ranged read (the build frames only files over 32 MiB).
    /// </summary>
    public const long MinimumFramedSize = 16L << 20;

    /// <summary>
    /// The entry's frames, or <see langword="null"/> when its data does not end with a seek table. A table that is
    /// there but does not add up to the entry's sizes is a corrupt archive.
    /// </summary>
    /// <param name="source">The archive.</param>
    /// <param name="directory">Its central directory, which names it in errors.</param>
    /// <param name="entry">A zstd entry.</param>
    /// <param name="dataOffset">Where the entry's data starts in the archive.</param>
    /// <param name="declaredBy">What gives the entry's size, for the error when the table claims another one.</param>
    /// <param name="cancellationToken">Stops the reads.</param>
    public static async Task<IReadOnlyList<ZstdFrame>?> ReadAsync(IArchiveSource source, ZipDirectory directory, ZipEntryRecord entry, long dataOffset, string declaredBy, CancellationToken cancellationToken)
    {
        if (entry.Size < MinimumFramedSize || entry.CompressedSize < ZstdSeekTable.Length(0))
        {
            return null;
        }
        var footer = new byte[ZstdSeekTable.FooterSize];
        await source.ReadAsync(dataOffset + entry.CompressedSize - footer.Length, footer, cancellationToken).ConfigureAwait(false);
        if (!ZstdSeekTable.TryReadFooter(footer, out var count, out var descriptor))
        {
            return null;
        }

        // Records with checksums are read past: the loader does not need them (SHA-256 covers the file).
        var recordSize = ZstdSeekTable.EntrySizeOf(descriptor);
        var tableLength = ZstdSeekTable.Length(count, recordSize);
        // Every frame holds at least one byte, and no more frames than MaxFrames: a crafted table cannot make the loader
        // allocate for millions of records or start a task per byte.
        if (count == 0 || count > MaxFrames || count > entry.Size || (descriptor & ZstdSeekTable.ReservedBits) != 0 || tableLength > entry.CompressedSize)
        {
            throw Corrupt(directory, entry, $"its seek table claims {count:N0} frames, which cannot fit its {entry.CompressedSize:N0} bytes");
        }
        var table = new byte[tableLength];
        var tableOffset = entry.CompressedSize - tableLength;
        await source.ReadAsync(dataOffset + tableOffset, table, cancellationToken).ConfigureAwait(false);
        if (BinaryPrimitives.ReadUInt32LittleEndian(table) != ZstdSeekTable.SkippableMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(4)) != tableLength - ZstdSeekTable.HeaderSize)
        {
            throw Corrupt(directory, entry, "its seek table does not start with the skippable frame that should hold it");
        }

        return Parse(directory, entry, table, (int)count, recordSize, tableOffset, declaredBy);
    }

    private static ZstdFrame[] Parse(ZipDirectory directory, ZipEntryRecord entry, byte[] table, int count, int recordSize, long tableOffset, string declaredBy)
    {
        var frames = new ZstdFrame[count];
        long compressedAt = 0, decompressedAt = 0;
        for (var i = 0; i < frames.Length; i++)
        {
            var record = table.AsSpan(ZstdSeekTable.HeaderSize + i * recordSize);
            var compressed = BinaryPrimitives.ReadUInt32LittleEndian(record);
            var decompressed = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
            if (compressed == 0 || decompressed == 0 || compressed > int.MaxValue || decompressed > int.MaxValue)
            {
                throw Corrupt(directory, entry, $"frame {i} of its seek table has sizes {compressed:N0} and {decompressed:N0}");
            }
            frames[i] = new ZstdFrame(compressedAt, (int)compressed, decompressedAt, (int)decompressed);
            compressedAt += compressed;
            decompressedAt += decompressed;
        }
        if (compressedAt != tableOffset)
        {
            throw Corrupt(directory, entry, $"its seek table lists {compressedAt:N0} bytes of frames, but the entry has {tableOffset:N0}");
        }
        if (decompressedAt != entry.Size)
        {
            // Caught before anything is decoded: a table that promises more than declared is a bomb or damage.
            throw new SnapLoaderException(decompressedAt > entry.Size ? RuntimeErrorCodes.EntryTooLarge : RuntimeErrorCodes.EntryTooSmall,
                $"Entry '{RuntimeErrors.Printable(entry.Name)}' of {directory.Archive} would decode to {decompressedAt:N0} bytes by its seek table, but {declaredBy} gives {entry.Size:N0}; " +
                "nothing of it was decoded. The entry is corrupt or a decompression bomb.");
        }
        return frames;
    }

    private static SnapLoaderException Corrupt(ZipDirectory directory, ZipEntryRecord entry, string what) =>
        RuntimeErrors.Corrupt(directory.Archive, $"entry '{RuntimeErrors.Printable(entry.Name)}': {what}");
}
