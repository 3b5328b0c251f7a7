using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>Deflate and single-stream zstd entries: one decoder reads a prefetching stream of ranges.</summary>
internal static partial class ArchiveLoader
{
    /// <summary>
    /// A deflate or zstd entry: one decoder reads the compressed bytes in order from a prefetching stream and writes
    /// what it decodes at increasing offsets. Decoding more than the declared size stops at once (a bomb never gets
    /// further than one chunk past the limit, and nothing past it is written).
    /// </summary>
    private static async Task LoadCompressedAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, MemoryFile file, SemaphoreSlim slots, RangeBufferPool rangeBuffers, ZstdDecoders? zstd,
        LoaderSettings settings, IncrementalHash? sha, Crc32? crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var declaredBy = DeclaredBy(item);
        await using var compressed = new RangePrefetchStream(source, dataOffset, entry.CompressedSize, settings.Parallelism, slots, rangeBuffers, statistics, cancellationToken);
        // Disposed after the sink (the finally below), and even when the sink cannot be made: a zstd decoder holds native memory.
        await using Stream decoder = entry.Method == ZipFormat.MethodDeflate
            ? new DeflateStream(compressed, CompressionMode.Decompress, leaveOpen: true)
            : zstd!.Create(compressed);
        var sink = new DecodedChunkSink(file, sha, crc, statistics, cancellationToken);
        try
        {
            long written = 0;
            long decodeTicks = 0;
            var ended = false;
            while (!ended)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(LoaderSettings.ChunkSize);
                int filled;
                try
                {
                    // One byte more than the entry may hold, so a bomb is caught without a byte past it handed on.
                    var want = (int)Math.Min(LoaderSettings.ChunkSize, entry.Size - written + 1);
                    (filled, ended, var ticks) = await FillChunkAsync(decoder, buffer.AsMemory(0, want), () => compressed.WaitTicks, directory, entry, written,
                        cancellationToken).ConfigureAwait(false);
                    decodeTicks += ticks;
                    if (written + filled > entry.Size)
                    {
                        throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, entry.Size, declaredBy);
                    }
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
                if (filled == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    continue;
                }
                await sink.PostAsync(buffer, written, filled).ConfigureAwait(false);
                written += filled;
            }
            if (written != entry.Size)
            {
                throw RuntimeErrors.TooSmall(directory.Archive, entry.Name, entry.Size, written, declaredBy);
            }
            statistics.AddDecode(written, decodeTicks);
            await sink.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            await sink.DisposeAsync().ConfigureAwait(false);
        }
    }
}
