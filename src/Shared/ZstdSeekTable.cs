using System.Buffers.Binary;

namespace SnapLoader;

/// <summary>
/// The seek table of zstd's seekable format (zstd's contrib/seekable_format): a skippable frame after the data frames
/// that lists each frame's compressed and decompressed size, so a reader can find every frame without decoding the ones
/// before it and decode them in parallel. Any zstd decoder skips it, so the entry stays an ordinary zstd stream. The
/// build writes it (<see cref="Build"/>) for large files; the runtime reads it (<see cref="TryReadFooter"/>).
/// </summary>
/// <remarks>
/// Written by hand: ZstdSharp implements zstd's core format only, not the seekable format of its contrib folder.
/// Compiled into both SnapLoader.Build.Tasks and SnapLoader.Runtime (see src/Shared/README.md).
/// </remarks>
internal static class ZstdSeekTable
{
    /// <summary>The magic of the skippable frame that holds the table (the last skippable-frame variant, 0x184D2A5E).</summary>
    public const uint SkippableMagic = 0x184D2A5E;

    /// <summary>The magic that ends the table, and the entry.</summary>
    public const uint SeekableMagic = 0x8F92EAB1;

    /// <summary>Skippable magic, then the frame's size.</summary>
    public const int HeaderSize = 8;

    /// <summary>Frame count, descriptor, seekable magic.</summary>
    public const int FooterSize = 9;

    /// <summary>A frame's record: compressed size, decompressed size.</summary>
    public const int EntrySize = 8;

    /// <summary>A frame's record when the descriptor's <see cref="ChecksumFlag"/> adds a checksum to each.</summary>
    public const int EntrySizeWithChecksum = 12;

    /// <summary>Descriptor bit 7: each record carries the frame's checksum.</summary>
    public const byte ChecksumFlag = 0x80;

    /// <summary>Descriptor bits 2-6, which the format reserves and a valid table leaves clear.</summary>
    public const byte ReservedBits = 0x7C;

    /// <summary>The table's length for <paramref name="frameCount"/> frames, as <see cref="Build"/> writes it.</summary>
    public static int Length(int frameCount) => checked((int)Length(frameCount, EntrySize));

    /// <summary>The table's length for <paramref name="frameCount"/> frames of <paramref name="entrySize"/>-byte records.</summary>
    public static long Length(long frameCount, int entrySize) => HeaderSize + frameCount * entrySize + FooterSize;

    /// <summary>The table for frames of the given sizes, in order, without checksums (SHA-256 covers the file).</summary>
    public static byte[] Build(IReadOnlyList<(long Compressed, long Decompressed)> frames)
    {
        var table = new byte[Length(frames.Count)];
        var span = table.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, SkippableMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(table.Length - HeaderSize));
        for (var i = 0; i < frames.Count; i++)
        {
            var at = HeaderSize + i * EntrySize;
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], checked((uint)frames[i].Compressed));
            BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 4)..], checked((uint)frames[i].Decompressed));
        }
        var footer = span[^FooterSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, (uint)frames.Count);
        footer[4] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(footer[5..], SeekableMagic);
        return table;
    }

    /// <summary>
    /// Reads the last <see cref="FooterSize"/> bytes of an entry: false when they do not end a seek table (the entry is
    /// one ordinary zstd stream). The values are the footer's own; the caller checks them against the entry.
    /// </summary>
    public static bool TryReadFooter(ReadOnlySpan<byte> footer, out uint frameCount, out byte descriptor)
    {
        if (footer.Length != FooterSize || BinaryPrimitives.ReadUInt32LittleEndian(footer[5..]) != SeekableMagic)
        {
            (frameCount, descriptor) = (0, 0);
            return false;
        }
        frameCount = BinaryPrimitives.ReadUInt32LittleEndian(footer);
        descriptor = footer[4];
        return true;
    }

    /// <summary>The size of each frame's record that <paramref name="descriptor"/> announces.</summary>
    public static int EntrySizeOf(byte descriptor) => (descriptor & ChecksumFlag) != 0 ? EntrySizeWithChecksum : EntrySize;
}
