using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>Stored entries: ranges copied straight from the source into the memory file, several at once.</summary>
internal static partial class ArchiveLoader
{
    /// <summary>
    /// A stored entry: its ranges stream straight from the source into the memory file at their offsets, several at
    /// once; meanwhile the hashes follow in order, reading back each range as soon as it is complete.
    /// </summary>
    private static Task LoadStoredAsync(
        IArchiveSource source, ZipEntryRecord entry, long dataOffset, MemoryFile file, SemaphoreSlim slots, LoaderSettings settings,
        IncrementalHash? sha, Crc32? crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var rangeCount = (int)((entry.Size + settings.RangeSize - 1) / settings.RangeSize);
        var ranges = Enumerable.Range(0, rangeCount)
            .Select(i => ((long)i * settings.RangeSize, Math.Min((long)(i + 1) * settings.RangeSize, entry.Size)))
            .ToArray();
        return FillAndHashAsync(file, ranges, (i, token) =>
        {
            var (start, end) = ranges[i];
            return CopyRangeAsync(source, dataOffset + start, (int)(end - start), file, start, slots, statistics, token);
        }, sha, crc, statistics, cancellationToken);
    }

    private static async Task CopyRangeAsync(IArchiveSource source, long sourceOffset, int length, MemoryFile file, long fileOffset, SemaphoreSlim slots, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(LoaderSettings.ChunkSize);
        try
        {
            var started = Stopwatch.GetTimestamp();
            long writeTicks = 0;
            await using var stream = await source.OpenRangeAsync(sourceOffset, length, cancellationToken).ConfigureAwait(false);
            var done = 0;
            while (done < length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, length - done)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw RuntimeErrors.Truncated(source.Description, sourceOffset, length, sourceOffset + done);
                }
                var writing = Stopwatch.GetTimestamp();
                file.Write(fileOffset + done, buffer.AsSpan(0, read));
                writeTicks += Stopwatch.GetTimestamp() - writing;
                done += read;
            }
            statistics.AddWrite(writeTicks);
            statistics.AddRange(length, Stopwatch.GetTimestamp() - started - writeTicks);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            slots.Release();
        }
    }
}
