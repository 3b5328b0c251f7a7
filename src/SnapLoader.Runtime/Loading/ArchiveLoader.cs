using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>
/// Streams the entries of an archive into sealed memory files: reads the central directory, fetches each entry by byte
/// ranges in parallel, decodes and hashes while streaming, and writes straight into the entry's memory file. Either every
/// requested file is loaded and verified, or nothing is: on any failure or cancellation every memory file made so far
/// is closed before the exception leaves. Manifest files that name one entry (byte-identical files the build stored
/// once) share that entry's one memory file: it is fetched, counted against the memory budget and closed once.
/// </summary>
internal static partial class ArchiveLoader
{
    /// <summary>Loads the files of <paramref name="source"/>; see the overload with statistics.</summary>
    public static Task<IReadOnlyList<LoadedFile>> LoadAsync(
        IArchiveSource source,
        IReadOnlyList<MovedFile>? expected,
        Func<string, bool>? filter,
        LoaderSettings settings,
        CancellationToken cancellationToken) =>
        LoadAsync(source, expected, filter, settings, new LoadStatistics(), cancellationToken);

    /// <summary>Loads the files of <paramref name="source"/>.</summary>
    /// <param name="source">The archive.</param>
    /// <param name="expected">
    /// The manifest's files, in load order: each one's <see cref="MovedFile.Entry"/> must be in the archive with its size
    /// and SHA-256; other entries are ignored. <see langword="null"/> for a user's own archive: every file entry is loaded
    /// and checked against its CRC-32.
    /// </param>
    /// <param name="filter">Which relative paths to load; <see langword="null"/> for all.</param>
    /// <param name="settings">Range size and parallelism.</param>
    /// <param name="statistics">Receives the bytes and busy time of each stage.</param>
    /// <param name="cancellationToken">Stops the load; nothing is left open.</param>
    /// <returns>
    /// The loaded files, in manifest order (or directory order without a manifest), each sealed; files of one entry
    /// share its <see cref="LoadedFile.File"/>.
    /// </returns>
    /// <exception cref="SnapLoaderException">Any failure; see <see cref="RuntimeErrorCodes"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<IReadOnlyList<LoadedFile>> LoadAsync(
        IArchiveSource source,
        IReadOnlyList<MovedFile>? expected,
        Func<string, bool>? filter,
        LoaderSettings settings,
        LoadStatistics statistics,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(statistics);
        settings.Validate();

        if (expected is not null)
        {
            // The manifest says which entries (memory files) and paths this load takes: no need to read the archive first.
            var wanted = expected.Where(f => filter is null || filter(f.RelativePath)).ToList();
            DescriptorBudget.Check(source.Description, wanted.Select(f => f.Entry).Distinct(StringComparer.Ordinal).Count(), wanted.Count,
                DescriptorBudget.Folders(wanted.Select(f => f.RelativePath)));
        }
        var directory = await ZipDirectory.ReadAsync(source, cancellationToken).ConfigureAwait(false);
        var (plan, order) = Plan(directory, expected, filter);
        if (expected is null)
        {
            // A user's own archive: only its directory says what it holds.
            DescriptorBudget.Check(directory.Archive, plan.Count, plan.Count, DescriptorBudget.Folders(plan.Select(p => p.Entry.Name)));
        }
        // Per entry: files that share one take its memory once.
        var entries = plan.Select(p => p.Entry).ToList();
        MemoryBudget.Check(directory.Archive, entries, settings);

        // Everything is checked that can be before the first memory file exists.
        var files = new MemoryFile?[plan.Count];
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new List<Task>();
        // Outside the try: the cleanup below waits for the workers, which use them until they stop.
        using var slots = new SemaphoreSlim(settings.Parallelism, settings.Parallelism);
        // Sized as the memory check counted it: no larger than the largest compressed entry needs.
        var rangeBuffers = new RangeBufferPool(MemoryBudget.RangeBufferSize(entries, settings));
        // Disposed when the method ends, after the finally below has waited for every worker and its decoders.
        using var zstd = entries.Any(e => e.Method == ZipFormat.MethodZstd) ? ZstdDecoders.Open() : null;
        statistics.ZstdDecoder = zstd?.Description;
        // The largest entries first, so that the last to finish is a small one and every core stays busy to the end.
        var start = Enumerable.Range(0, plan.Count).OrderByDescending(i => plan[i].Entry.CompressedSize).ToArray();
        try
        {
            for (var i = 0; i < plan.Count; i++)
            {
                files[i] = MemoryFile.Create(plan[i].MemoryFileName, plan[i].Entry.Size);
            }

            var hashes = new string?[plan.Count];
            var next = -1;
            Exception? firstError = null;
            var workerCount = Math.Min(plan.Count, settings.EntryParallelism);
            for (var w = 0; w < workerCount; w++)
            {
                workers.Add(Task.Run(async () =>
                {
                    int taken;
                    while ((taken = Interlocked.Increment(ref next)) < plan.Count && !failure.IsCancellationRequested)
                    {
                        var index = start[taken];
                        try
                        {
                            hashes[index] = await LoadEntryAsync(source, directory, plan[index], files[index]!, slots, rangeBuffers, zstd, settings, statistics, failure.Token).ConfigureAwait(false);
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

            var loaded = new LoadedFile[order.Count];
            for (var i = 0; i < order.Count; i++)
            {
                var (moved, load) = order[i];
                loaded[i] = new LoadedFile(plan[load].Entry, moved, files[load]!, hashes[load]);
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
            // One memory file per entry, however many manifest files share it.
            foreach (var file in files)
            {
                file?.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// One entry to load, with the manifest records that name it (in manifest order; several when the build stored
    /// identical files once), or none for a user's own archive.
    /// </summary>
    private sealed record PlannedLoad(ZipEntryRecord Entry, List<MovedFile> Files)
    {
        public bool HasManifest => Files.Count > 0;

        /// <summary>
        /// The name /proc/self/maps shows: the entry's; for an entry several files share, their paths with what tells
        /// them apart as <c>*</c> (<c>runtimes/linux-x64/native/*/libllama.so</c>), so that a mapping never names one
        /// CPU variant's folder when another one's path opened it.
        /// </summary>
        public string MemoryFileName => Files.Count < 2 ? Entry.Name : SharedName(Files.Select(f => f.RelativePath).ToList()) ?? Entry.Name;
    }

    /// <summary>
    /// The segments all <paramref name="paths"/> begin with, <c>*</c>, and those they all end with; <see langword="null"/>
    /// when they do not end alike (the files have different names), which leaves the entry's name.
    /// </summary>
    internal static string? SharedName(IReadOnlyList<string> paths)
    {
        var split = paths.Select(p => p.Split('/')).ToList();
        var shortest = split.Min(s => s.Length);
        var prefix = 0;
        while (prefix < shortest - 1 && split.All(s => s[prefix] == split[0][prefix]))
        {
            prefix++;
        }
        var suffix = 0;
        while (prefix + suffix < shortest && split.All(s => s[^(suffix + 1)] == split[0][^(suffix + 1)]))
        {
            suffix++;
        }
        if (suffix == 0)
        {
            return null;
        }
        return string.Join('/', split[0].Take(prefix).Append("*").Concat(split[0].TakeLast(suffix)));
    }

    /// <summary>
    /// The entries to load, each once, in the order of their first file; and every file to hand back, in manifest
    /// order, with the index of the entry it comes from.
    /// </summary>
    private static (List<PlannedLoad> Plan, List<(MovedFile? Moved, int Load)> Order) Plan(
        ZipDirectory directory, IReadOnlyList<MovedFile>? expected, Func<string, bool>? filter)
    {
        var plan = new List<PlannedLoad>();
        var order = new List<(MovedFile? Moved, int Load)>();
        if (expected is null)
        {
            foreach (var entry in directory.Entries)
            {
                if (!entry.IsDirectory && (filter is null || filter(entry.Name)))
                {
                    order.Add((null, plan.Count));
                    plan.Add(new PlannedLoad(entry, []));
                }
            }
        }
        else
        {
            var byName = directory.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
            var loadOfEntry = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var moved in expected)
            {
                if (filter is not null && !filter(moved.RelativePath))
                {
                    continue;
                }
                if (!byName.TryGetValue(moved.Entry, out var entry) || entry.IsDirectory)
                {
                    throw moved.Entry == moved.RelativePath
                        ? RuntimeErrors.Missing(directory.Archive, moved.RelativePath)
                        : new SnapLoaderException(RuntimeErrorCodes.EntryMissing,
                            $"File '{moved.RelativePath}' is stored as the entry '{moved.Entry}', which is not in the archive {directory.Archive}. " +
                            "The archive belongs to another build, or the function points at the wrong object: publish again.");
                }
                var declaredBy = moved.Entry == moved.RelativePath ? "the manifest" : $"the manifest's record of '{moved.RelativePath}'";
                if (entry.Size > moved.Size)
                {
                    throw RuntimeErrors.TooLarge(directory.Archive, entry.Name, moved.Size, declaredBy);
                }
                if (entry.Size < moved.Size)
                {
                    throw RuntimeErrors.TooSmall(directory.Archive, entry.Name, moved.Size, entry.Size, declaredBy);
                }
                if (!loadOfEntry.TryGetValue(entry.Name, out var load))
                {
                    load = plan.Count;
                    loadOfEntry.Add(entry.Name, load);
                    plan.Add(new PlannedLoad(entry, []));
                }
                plan[load].Files.Add(moved);
                order.Add((moved, load));
            }
        }
        foreach (var item in plan)
        {
            if (item.Entry.Method is not (ZipFormat.MethodStored or ZipFormat.MethodDeflate or ZipFormat.MethodZstd))
            {
                throw RuntimeErrors.UnsupportedMethod(directory.Archive, item.Entry.Name, item.Entry.Method);
            }
        }
        return (plan, order);
    }

    /// <summary>
    /// Loads one entry into <paramref name="file"/>, verifies it (against the SHA-256 of every manifest file that names
    /// it), seals it, and returns its SHA-256 when there is one to check.
    /// </summary>
    private static async Task<string?> LoadEntryAsync(
        IArchiveSource source, ZipDirectory directory, PlannedLoad item, MemoryFile file, SemaphoreSlim slots, RangeBufferPool rangeBuffers, ZstdDecoders? zstd,
        LoaderSettings settings, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        var entry = item.Entry;
        var dataOffset = await directory.GetDataOffsetAsync(source, entry, cancellationToken).ConfigureAwait(false);
        // The manifest's SHA-256 proves the content; the CRC-32 is the only check a user's own archive has.
        using var sha = item.HasManifest ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var crc = sha is null ? new Crc32() : null;

        if (entry.Method == ZipFormat.MethodStored)
        {
            await LoadStoredAsync(source, entry, dataOffset, file, slots, settings, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }
        else if (entry.Method == ZipFormat.MethodZstd && await ZstdFrameIndex.ReadAsync(source, directory, entry, dataOffset, DeclaredBy(item), cancellationToken).ConfigureAwait(false) is { } frames)
        {
            await LoadFramesAsync(source, directory, item, dataOffset, frames, file, slots, zstd!, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await LoadCompressedAsync(source, directory, item, dataOffset, file, slots, rangeBuffers, zstd, settings, sha, crc, statistics, cancellationToken).ConfigureAwait(false);
        }

        string? actualSha = null;
        if (sha is not null)
        {
            actualSha = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
            foreach (var moved in item.Files)
            {
                if (actualSha != moved.Sha256)
                {
                    throw moved.RelativePath == entry.Name
                        ? RuntimeErrors.HashMismatch(directory.Archive, entry.Name, moved.Sha256, actualSha)
                        : new SnapLoaderException(RuntimeErrorCodes.HashMismatch,
                            $"File '{moved.RelativePath}', stored as the entry '{entry.Name}' of {directory.Archive}, has SHA-256 {actualSha}, but the function was built with {moved.Sha256}. " +
                            "The archive was replaced or damaged since the build: publish the function again, or restore the object the build uploaded. Nothing from the archive was loaded.");
                }
            }
        }
        if (crc is not null && crc.GetCurrentHashAsUInt32() is var actualCrc && actualCrc != entry.Crc32)
        {
            throw RuntimeErrors.CrcMismatch(directory.Archive, entry.Name, entry.Crc32, actualCrc);
        }
        file.Seal();
        return actualSha;
    }

    /// <summary>
    /// Runs <paramref name="fill"/> for every range of the file, several at once on the thread pool (each holds a fetch
    /// slot while it works), and hashes the ranges in order, each as soon as it is filled.
    /// </summary>
    private static async Task FillAndHashAsync(
        MemoryFile file, IReadOnlyList<(long Start, long End)> ranges, Func<int, CancellationToken, Task> fill,
        IncrementalHash? sha, Crc32? crc, LoadStatistics statistics, CancellationToken cancellationToken)
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

        var buffer = ArrayPool<byte>.Shared.Rent(LoaderSettings.ChunkSize);
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
        item.HasManifest ? "the manifest (and the central directory)" : "its central directory record";

    /// <summary>Hashes bytes [<paramref name="start"/>, <paramref name="end"/>) of the file as written.</summary>
    private static void HashBack(MemoryFile file, long start, long end, byte[] buffer, IncrementalHash? sha, Crc32? crc, LoadStatistics statistics)
    {
        var started = Stopwatch.GetTimestamp();
        for (var at = start; at < end;)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - at));
            file.Read(at, chunk);
            sha?.AppendData(chunk);
            crc?.Append(chunk);
            at += chunk.Length;
        }
        // Reading the bytes back from the memory file is part of verifying them.
        statistics.AddVerify(end - start, Stopwatch.GetTimestamp() - started);
    }

    /// <summary>
    /// Fills <paramref name="chunk"/> from <paramref name="decoder"/> until it is full or the decoder ends: whole chunks,
    /// because decoders hand out a few kilobytes per read (DeflateStream, or zstd fed by a socket), and each piece would
    /// otherwise cost its own write or hand-over. Returns the bytes filled, whether the decoder ended, and the time spent
    /// decoding: the time in the reads less what <paramref name="waitTicks"/> counted waiting for compressed input.
    /// </summary>
    private static async Task<(int Filled, bool Ended, long DecodeTicks)> FillChunkAsync(
        Stream decoder, Memory<byte> chunk, Func<long> waitTicks, ZipDirectory directory, ZipEntryRecord entry, long decodedSoFar, CancellationToken cancellationToken)
    {
        var filled = 0;
        long decodeTicks = 0;
        while (filled < chunk.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (started, waitedBefore) = (Stopwatch.GetTimestamp(), waitTicks());
            var read = await ReadDecodedAsync(decoder, chunk[filled..], directory, entry, decodedSoFar + filled, cancellationToken).ConfigureAwait(false);
            decodeTicks += Stopwatch.GetTimestamp() - started - (waitTicks() - waitedBefore);
            if (read == 0)
            {
                return (filled, true, decodeTicks);
            }
            filled += read;
        }
        return (filled, false, decodeTicks);
    }

    private static async ValueTask<int> ReadDecodedAsync(Stream decoder, Memory<byte> buffer, ZipDirectory directory, ZipEntryRecord entry, long decodedSoFar, CancellationToken cancellationToken)
    {
        try
        {
            return await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException || (e is EndOfStreamException && entry.Method == ZipFormat.MethodZstd))
        {
            throw new SnapLoaderException(RuntimeErrorCodes.CorruptDirectory,
                $"Entry '{RuntimeErrors.Printable(entry.Name)}' of {directory.Archive} cannot be decoded ({(entry.Method == ZipFormat.MethodDeflate ? "deflate" : "zstd")}) after {decodedSoFar:N0} bytes: {e.Message} The archive is damaged; make or upload it again.", e);
        }
    }
}
