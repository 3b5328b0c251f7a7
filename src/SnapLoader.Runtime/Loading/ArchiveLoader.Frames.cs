using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>zstd entries of independent frames with a seek table: the frames decode on every core at once.</summary>
internal static partial class ArchiveLoader
{
    /// <summary>
    /// A zstd entry of independent frames with a seek table (what the build writes for large files): the frames are
    /// fetched and decoded on every core at once, each into its own part of the memory file, and the hashes follow in
    /// order as for a stored entry. A frame that decodes to more or fewer bytes than its record says fails the load.
    /// </summary>
    private static Task LoadFramesAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, IReadOnlyList<ZstdFrame> frames, MemoryFile file, SemaphoreSlim slots,
        ZstdDecoders zstd, IncrementalHash? sha, Crc32? crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var ranges = frames.Select(f => (f.DecompressedOffset, f.DecompressedOffset + f.DecompressedSize)).ToArray();
        return FillAndHashAsync(file, ranges,
            (i, token) => DecodeFrameAsync(source, directory, item, dataOffset, frames[i], file, slots, zstd, statistics, token),
            sha, crc, statistics, cancellationToken);
    }

    /// <summary>
    /// Decodes one frame straight from its ranged read into its part of the file, chunk by chunk: nothing holds the
    /// frame whole, so memory per frame in flight is the decoder's window and two chunks, whatever the frame's size.
    /// </summary>
    private static async Task DecodeFrameAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, ZstdFrame frame, MemoryFile file, SemaphoreSlim slots,
        ZstdDecoders zstd, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var declaredBy = $"frame at {frame.DecompressedOffset:N0} of its seek table";
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var chunk = ArrayPool<byte>.Shared.Rent(LoaderSettings.ChunkSize);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await using var range = await source.OpenRangeAsync(dataOffset + frame.CompressedOffset, frame.CompressedSize, cancellationToken).ConfigureAwait(false);
            var compressed = new TimedReadStream(range);
            var opened = Stopwatch.GetTimestamp();
            using var decoder = zstd.Create(compressed);
            long decoded = 0, decodeTicks = 0, writeTicks = 0;
            var ended = false;
            while (!ended)
            {
                // One byte more than the frame may hold, so a frame that decodes to more is caught without writing past it.
                var want = (int)Math.Min(chunk.Length, frame.DecompressedSize - decoded + 1);
                (var filled, ended, var ticks) = await FillChunkAsync(decoder, chunk.AsMemory(0, want), () => compressed.ReadTicks, directory, entry,
                    frame.DecompressedOffset + decoded, cancellationToken).ConfigureAwait(false);
                decodeTicks += ticks;
                if (decoded + filled > frame.DecompressedSize)
                {
                    throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, frame.DecompressedSize, declaredBy);
                }
                if (filled > 0)
                {
                    var writing = Stopwatch.GetTimestamp();
                    file.Write(frame.DecompressedOffset + decoded, chunk.AsSpan(0, filled));
                    writeTicks += Stopwatch.GetTimestamp() - writing;
                    decoded += filled;
                }
            }
            if (decoded != frame.DecompressedSize)
            {
                throw RuntimeErrors.TooSmall(directory.Archive, entry.Name, frame.DecompressedSize, decoded, declaredBy);
            }
            statistics.AddRange(compressed.BytesRead, opened - started + compressed.ReadTicks);
            statistics.AddDecode(decoded, decodeTicks);
            statistics.AddWrite(writeTicks);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            slots.Release();
        }
    }
}
