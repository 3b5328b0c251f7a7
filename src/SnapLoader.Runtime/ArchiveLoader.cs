using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>
/// Streams the entries of an archive into sealed memory files: reads the central directory, fetches each entry by byte
/// ranges in parallel, decodes and hashes while streaming, and writes straight into the entry's memory file. Either every
/// requested file is loaded and verified, or nothing is: on any failure or cancellation every memory file made so far
/// is closed before the exception leaves.
/// </summary>
internal static class ArchiveLoader
{
    internal const ushort MethodStored = 0;
    private const ushort MethodDeflate = 8;
    private const ushort MethodZstd = 93;

    /// <summary>Loads the files of <paramref name="source"/>; see the overload with statistics.</summary>
    public static Task<IReadOnlyList<LoadedFile>> LoadAsync(
        IArchiveSource source,
        IReadOnlyList<MovedFile>? expected,
        Func<string, bool>? filter,
        LoaderOptions options,
        CancellationToken cancellationToken) =>
        LoadAsync(source, expected, filter, options, new LoadStatistics(), cancellationToken);

    /// <summary>Loads the files of <paramref name="source"/>.</summary>
    /// <param name="source">The archive.</param>
    /// <param name="expected">
    /// The manifest's files, in load order: each must be in the archive with this size and SHA-256; other entries are
    /// ignored. <see langword="null"/> for a user's own archive: every file entry is loaded and checked against its CRC-32.
    /// </param>
    /// <param name="filter">Which relative paths to load; <see langword="null"/> for all.</param>
    /// <param name="options">Range size and parallelism.</param>
    /// <param name="statistics">Receives the bytes and busy time of each stage.</param>
    /// <param name="cancellationToken">Stops the load; nothing is left open.</param>
    /// <returns>The loaded files, in manifest order (or directory order without a manifest), each sealed.</returns>
    /// <exception cref="SnapLoaderException">Any failure; see <see cref="RuntimeErrorCodes"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<IReadOnlyList<LoadedFile>> LoadAsync(
        IArchiveSource source,
        IReadOnlyList<MovedFile>? expected,
        Func<string, bool>? filter,
        LoaderOptions options,
        LoadStatistics statistics,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(statistics);
        options.Validate();

        var directory = await ZipDirectory.ReadAsync(source, cancellationToken).ConfigureAwait(false);
        var plan = Plan(directory, expected, filter);
        MemoryBudget.Check(directory.Archive, MemoryBudget.Total(plan.Select(p => p.Entry.Size)), plan.Count, options);

        // Everything is checked that can be before the first memory file exists.
        var files = new MemoryFile?[plan.Count];
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new List<Task>();
        // Outside the try: the cleanup below waits for the workers, which use them until they stop.
        using var slots = new SemaphoreSlim(options.Parallelism, options.Parallelism);
        var rangeBuffers = new RangeBufferPool(options.RangeSize);
        try
        {
            for (var i = 0; i < plan.Count; i++)
            {
                files[i] = MemoryFile.Create(plan[i].Entry.Name, plan[i].Entry.Size);
            }

            var hashes = new string?[plan.Count];
            var next = -1;
            Exception? firstError = null;
            var workerCount = Math.Min(plan.Count, options.EntryParallelism);
            for (var w = 0; w < workerCount; w++)
            {
                workers.Add(Task.Run(async () =>
                {
                    int index;
                    while ((index = Interlocked.Increment(ref next)) < plan.Count && !failure.IsCancellationRequested)
                    {
                        try
                        {
                            hashes[index] = await LoadEntryAsync(source, directory, plan[index], files[index]!, slots, rangeBuffers, options, statistics, failure.Token).ConfigureAwait(false);
                        }
                        catch (Exception e)
                        {
                            // The first real failure wins; the cancellations it causes in the other workers are only echoes.
                            if (e is not OperationCanceledException || !failure.IsCancellationRequested)
                            {
                                Interlocked.CompareExchange(ref firstError, e, null);
                            }
                            failure.Cancel();
                            return;
                        }
                    }
                }, CancellationToken.None));
            }
            await Task.WhenAll(workers).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (firstError is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(firstError).Throw();
            }

            var loaded = new LoadedFile[plan.Count];
            for (var i = 0; i < plan.Count; i++)
            {
                loaded[i] = new LoadedFile(plan[i].Entry, plan[i].Moved, files[i]!, hashes[i]);
            }
            return loaded;
        }
        catch
        {
            // No worker may still write to a descriptor when it is closed: its number could be reused at once by another file.
            failure.Cancel();
            try
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch
            {
                // Already recorded above, or an echo of the cancellation.
            }
            foreach (var file in files)
            {
                file?.Dispose();
            }
            throw;
        }
    }

    /// <summary>One entry to load, with the manifest record that names it, if any.</summary>
    private sealed record PlannedLoad(ZipEntryRecord Entry, MovedFile? Moved);

    private static List<PlannedLoad> Plan(ZipDirectory directory, IReadOnlyList<MovedFile>? expected, Func<string, bool>? filter)
    {
        var plan = new List<PlannedLoad>();
        if (expected is null)
        {
            foreach (var entry in directory.Entries)
            {
                if (!entry.IsDirectory && (filter is null || filter(entry.Name)))
                {
                    plan.Add(new PlannedLoad(entry, null));
                }
            }
        }
        else
        {
            var byName = directory.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
            foreach (var moved in expected)
            {
                if (filter is not null && !filter(moved.RelativePath))
                {
                    continue;
                }
                if (!byName.TryGetValue(moved.RelativePath, out var entry) || entry.IsDirectory)
                {
                    throw RuntimeErrors.Missing(directory.Archive, moved.RelativePath);
                }
                if (entry.Size > moved.Size)
                {
                    throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, moved.Size, "the manifest");
                }
                if (entry.Size < moved.Size)
                {
                    throw RuntimeErrors.TooSmall(directory.Archive, entry.Name, moved.Size, entry.Size, "the manifest");
                }
                plan.Add(new PlannedLoad(entry, moved));
            }
        }
        foreach (var item in plan)
        {
            if (item.Entry.Method is not (MethodStored or MethodDeflate or MethodZstd))
            {
                throw RuntimeErrors.UnsupportedMethod(directory.Archive, item.Entry.Name, item.Entry.Method);
            }
        }
        return plan;
    }

    /// <summary>Loads one entry into <paramref name="file"/>, verifies it, seals it, and returns its SHA-256 when there is one to check.</summary>
    private static async Task<string?> LoadEntryAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, MemoryFile file, SemaphoreSlim slots, RangeBufferPool rangeBuffers, LoaderOptions options, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var dataOffset = await directory.GetDataOffsetAsync(source, entry, cancellationToken).ConfigureAwait(false);
        using var sha = item.Moved is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var crc = new Crc32();

        if (entry.Method == MethodStored)
        {
            await LoadStoredAsync(source, entry, dataOffset, file, slots, options, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }
        else if (entry.Method == MethodZstd && await ZstdFrameIndex.ReadAsync(source, directory, entry, dataOffset, DeclaredBy(item), cancellationToken).ConfigureAwait(false) is { } frames)
        {
            await LoadFramesAsync(source, directory, item, dataOffset, frames, file, slots, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await LoadCompressedAsync(source, directory, item, dataOffset, file, slots, rangeBuffers, options, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }

        var actualCrc = crc.GetCurrentHashAsUInt32();
        string? actualSha = null;
        if (sha is not null)
        {
            actualSha = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
            if (actualSha != item.Moved!.Sha256)
            {
                throw RuntimeErrors.HashMismatch(directory.Archive, entry.Name, item.Moved.Sha256, actualSha);
            }
        }
        // With a manifest the SHA-256 already proves the content; the CRC is still checked so a damaged directory record is named as such.
        if (actualCrc != entry.Crc32)
        {
            throw RuntimeErrors.CrcMismatch(directory.Archive, entry.Name, entry.Crc32, actualCrc);
        }
        file.Seal();
        return actualSha;
    }

    /// <summary>
    /// A stored entry: its ranges stream straight from the source into the memory file at their offsets, several at
    /// once; meanwhile the hashes follow in order, reading back each range as soon as it is complete.
    /// </summary>
    private static Task LoadStoredAsync(
        IArchiveSource source, ZipEntryRecord entry, long dataOffset, MemoryFile file, SemaphoreSlim slots, LoaderOptions options,
        IncrementalHash? sha, Crc32 crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var rangeCount = (int)((entry.Size + options.RangeSize - 1) / options.RangeSize);
        var ranges = Enumerable.Range(0, rangeCount)
            .Select(i => ((long)i * options.RangeSize, Math.Min((long)(i + 1) * options.RangeSize, entry.Size)))
            .ToArray();
        return FillAndHashAsync(file, ranges, (i, token) =>
        {
            var (start, end) = ranges[i];
            return CopyRangeAsync(source, dataOffset + start, (int)(end - start), file, start, slots, statistics, token);
        }, sha, crc, statistics, cancellationToken);
    }

    /// <summary>
    /// A zstd entry of independent frames with a seek table (what the build writes for large files): the frames are
    /// fetched and decoded on every core at once, each into its own part of the memory file, and the hashes follow in
    /// order as for a stored entry. A frame that decodes to more or fewer bytes than its record says fails the load.
    /// </summary>
    private static Task LoadFramesAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, IReadOnlyList<ZstdFrame> frames, MemoryFile file, SemaphoreSlim slots,
        IncrementalHash? sha, Crc32 crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var ranges = frames.Select(f => (f.DecompressedOffset, f.DecompressedOffset + f.DecompressedSize)).ToArray();
        return FillAndHashAsync(file, ranges,
            (i, token) => DecodeFrameAsync(source, directory, item, dataOffset, frames[i], file, slots, statistics, token),
            sha, crc, statistics, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="fill"/> for every range of the file, several at once on the thread pool (each holds a fetch
    /// slot while it works), and hashes the ranges in order, each as soon as it is filled.
    /// </summary>
    private static async Task FillAndHashAsync(
        MemoryFile file, IReadOnlyList<(long Start, long End)> ranges, Func<int, CancellationToken, Task> fill,
        IncrementalHash? sha, Crc32 crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var fills = new Task[ranges.Count];
        for (var i = 0; i < fills.Length; i++)
        {
            var index = i;
            // On the thread pool: a local file's reads complete synchronously, and would otherwise run one after another here.
            var token = stop.Token;
            fills[i] = Task.Run(() => fill(index, token), CancellationToken.None);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(LoaderOptions.ChunkSize);
        try
        {
            for (var i = 0; i < fills.Length; i++)
            {
                await fills[i].ConfigureAwait(false);
                HashBack(file, ranges[i].Start, ranges[i].End, buffer, sha, crc, statistics);
            }
        }
        catch
        {
            stop.Cancel();
            // The fills still running write into this file; they must be done before the caller may close it.
            try
            {
                await Task.WhenAll(fills).ConfigureAwait(false);
            }
            catch
            {
                // Their failures are echoes of the one being thrown, or cancellations.
            }
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string DeclaredBy(PlannedLoad item) =>
        item.Moved is null ? "its central directory record" : "the manifest (and the central directory)";

    /// <summary>
    /// Decodes one frame straight from its ranged read into its part of the file, chunk by chunk: nothing holds the
    /// frame whole, so memory per frame in flight is the decoder's window and two chunks, whatever the frame's size.
    /// </summary>
    private static async Task DecodeFrameAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, ZstdFrame frame, MemoryFile file, SemaphoreSlim slots,
        LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var declaredBy = $"frame at {frame.DecompressedOffset:N0} of its seek table";
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var chunk = ArrayPool<byte>.Shared.Rent(LoaderOptions.ChunkSize);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await using var range = await source.OpenRangeAsync(dataOffset + frame.CompressedOffset, frame.CompressedSize, cancellationToken).ConfigureAwait(false);
            var compressed = new TimedReadStream(range);
            var opened = Stopwatch.GetTimestamp();
            using var decoder = new ZstdSharp.DecompressionStream(compressed, bufferSize: LoaderOptions.ChunkSize, checkEndOfStream: true, leaveOpen: true);
            long decoded = 0, decodeTicks = 0, writeTicks = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (decoding, waitedBefore) = (Stopwatch.GetTimestamp(), compressed.ReadTicks);
                // One byte more than the frame may hold, so a frame that decodes to more is caught without writing past it.
                var want = (int)Math.Min(chunk.Length, frame.DecompressedSize - decoded + 1);
                var read = await ReadDecodedAsync(decoder, chunk.AsMemory(0, want), directory, entry, frame.DecompressedOffset + decoded, cancellationToken).ConfigureAwait(false);
                decodeTicks += Stopwatch.GetTimestamp() - decoding - (compressed.ReadTicks - waitedBefore);
                if (read == 0)
                {
                    break;
                }
                if (decoded + read > frame.DecompressedSize)
                {
                    throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, frame.DecompressedSize, declaredBy);
                }
                var writing = Stopwatch.GetTimestamp();
                file.Write(frame.DecompressedOffset + decoded, chunk.AsSpan(0, read));
                writeTicks += Stopwatch.GetTimestamp() - writing;
                decoded += read;
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

    /// <summary>Hashes bytes [<paramref name="start"/>, <paramref name="end"/>) of the file as written.</summary>
    private static void HashBack(MemoryFile file, long start, long end, byte[] buffer, IncrementalHash? sha, Crc32 crc, LoadStatistics statistics)
    {
        var started = Stopwatch.GetTimestamp();
        for (var at = start; at < end;)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - at));
            file.Read(at, chunk);
            sha?.AppendData(chunk);
            crc.Append(chunk);
            at += chunk.Length;
        }
        // Reading the bytes back from the memory file is part of verifying them.
        statistics.AddVerify(end - start, Stopwatch.GetTimestamp() - started);
    }

    private static async Task CopyRangeAsync(IArchiveSource source, long sourceOffset, int length, MemoryFile file, long fileOffset, SemaphoreSlim slots, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(LoaderOptions.ChunkSize);
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

    /// <summary>
    /// A deflate or zstd entry: one decoder reads the compressed bytes in order from a prefetching stream and writes
    /// what it decodes at increasing offsets. Decoding more than the declared size stops at once (a bomb never gets
    /// further than one chunk past the limit, and nothing past it is written).
    /// </summary>
    private static async Task LoadCompressedAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, long dataOffset, MemoryFile file, SemaphoreSlim slots, RangeBufferPool rangeBuffers, LoaderOptions options,
        IncrementalHash? sha, Crc32 crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var declaredBy = DeclaredBy(item);
        await using var compressed = new RangePrefetchStream(source, dataOffset, entry.CompressedSize, options.Parallelism, slots, rangeBuffers, statistics, cancellationToken);
        Stream decoder = entry.Method == MethodDeflate
            ? new DeflateStream(compressed, CompressionMode.Decompress, leaveOpen: true)
            : new ZstdSharp.DecompressionStream(compressed, bufferSize: LoaderOptions.ChunkSize, checkEndOfStream: true, leaveOpen: true);
        var sink = new DecodedChunkSink(file, sha, crc, statistics, cancellationToken);
        try
        {
            long written = 0;
            long decodeTicks = 0;
            var ended = false;
            while (!ended)
            {
                // Whole chunks, so the writer thread gets few, large pieces (DeflateStream hands out much smaller reads).
                var buffer = ArrayPool<byte>.Shared.Rent(LoaderOptions.ChunkSize);
                var filled = 0;
                try
                {
                    while (filled < LoaderOptions.ChunkSize)
                    {
                        var (started, waitedBefore) = (Stopwatch.GetTimestamp(), compressed.WaitTicks);
                        var read = await ReadDecodedAsync(decoder, buffer.AsMemory(filled, LoaderOptions.ChunkSize - filled), directory, entry, written + filled, cancellationToken).ConfigureAwait(false);
                        decodeTicks += Stopwatch.GetTimestamp() - started - (compressed.WaitTicks - waitedBefore);
                        if (read == 0)
                        {
                            ended = true;
                            break;
                        }
                        filled += read;
                        if (written + filled > entry.Size)
                        {
                            throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, entry.Size, declaredBy);
                        }
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
            await decoder.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask<int> ReadDecodedAsync(Stream decoder, Memory<byte> buffer, ZipDirectory directory, ZipEntryRecord entry, long decodedSoFar, CancellationToken cancellationToken)
    {
        try
        {
            return await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException || (e is EndOfStreamException && entry.Method == MethodZstd))
        {
            throw new SnapLoaderException(RuntimeErrorCodes.CorruptDirectory,
                $"Entry '{RuntimeErrors.Printable(entry.Name)}' of {directory.Archive} cannot be decoded ({(entry.Method == MethodDeflate ? "deflate" : "zstd")}) after {decodedSoFar:N0} bytes: {e.Message} The archive is damaged; make or upload it again.", e);
        }
    }
}
