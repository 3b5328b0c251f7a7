using System.Buffers.Binary;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// The seek table of zstd's seekable format (zstd's contrib/seekable_format): a skippable frame after the data frames
/// that lists each frame's compressed and decompressed size, so a reader can find every frame without decoding the ones
/// before it and decode them in parallel. Any zstd decoder skips it, so the entry stays an ordinary zstd stream.
/// </summary>
/// <remarks>Written by hand: ZstdSharp implements zstd's core format only, not the seekable format of its contrib folder.</remarks>
internal static class ZstdSeekTable
{
    /// <summary>The magic of the skippable frame that holds the table (the last skippable-frame variant, 0x184D2A5E).</summary>
    public const uint SkippableMagic = 0x184D2A5E;

    /// <summary>The magic that ends the table, and the entry.</summary>
    public const uint SeekableMagic = 0x8F92EAB1;

    private const int EntrySize = 8;   // compressed size, decompressed size; no per-frame checksums (SHA-256 covers the file)
    private const int FooterSize = 9;  // frame count, descriptor, seekable magic
    private const int HeaderSize = 8;  // skippable magic, frame size

    /// <summary>The table's length for <paramref name="frameCount"/> frames.</summary>
    public static int Length(int frameCount) => HeaderSize + frameCount * EntrySize + FooterSize;

    /// <summary>The table for frames of the given sizes, in order.</summary>
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
        footer[4] = 0; // descriptor: no checksums
        BinaryPrimitives.WriteUInt32LittleEndian(footer[5..], SeekableMagic);
        return table;
    }
}
