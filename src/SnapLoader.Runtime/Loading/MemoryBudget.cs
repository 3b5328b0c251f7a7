namespace SnapLoader.Runtime;

/// <summary>
/// Checks, before the first memory file exists, that the files to load fit the function's memory. Memory files are
/// RAM (shmem) charged to the function's cgroup like its heap, and Lambda has no swap: a load that does not fit would
/// be ended by the OOM killer partway through, with no message, or leave the function too little to run.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>
    /// Kept for the .NET runtime and the function's own init. Measured (docs/faults.md, "Memory and system"): a process
    /// that starts SnapLoader with the shim and loads a 1 MiB library peaks at 48 MiB resident (VmHWM; 51 MiB by
    /// /usr/bin/time -v), buffers included; a dotnet8 function that does nothing reports 60-70 MB "Max Memory Used" on
    /// Lambda (its runtime client and HTTP stack), and moved native libraries allocate some of their own once loaded.
    /// 96 MiB leaves about 30 MiB above that. The buffers are counted apart, sized to the load (<see cref="BufferBytes"/>),
    /// so a 128 MB function keeps about 27 MiB for a small load, where the old maximum (80 MiB of buffers) refused it.
    /// </summary>
    public const long RuntimeReserveBytes = 96L << 20;

    /// <summary>
    /// The reserve for loading <paramref name="entries"/>: <see cref="RuntimeReserveBytes"/> plus the buffers this load
    /// will use (<see cref="BufferBytes"/>).
    /// </summary>
    public static long ReserveBytes(IReadOnlyCollection<ZipEntryRecord> entries, LoaderSettings settings) =>
        RuntimeReserveBytes + BufferBytes(entries, settings);

    /// <summary>
    /// The loader's managed buffers while it loads <paramref name="entries"/>, sized to them rather than to the
    /// settings' maximum. A fetch slot (at most <see cref="LoaderSettings.Parallelism"/>, and no more than the load has
    /// ranges or frames) holds one prefetched range of a compressed entry (<see cref="RangeBufferSize"/>), or the 1 MiB
    /// chunk of a stored range's copy, or the chunk and the decoder's 1 MiB input of a zstd frame; each entry being
    /// loaded (at most <see cref="LoaderSettings.EntryParallelism"/>, counted from the largest) holds the chunk its
    /// hashes read back through, or up to four decoded chunks on their way to the writer (fewer for a small entry) and,
    /// for zstd, the decoder's input. Whether a zstd entry has frames is only known from its seek table, which is
    /// fetched later: both ways are counted. zstd's window lives in native memory, within the runtime's reserve.
    /// </summary>
    public static long BufferBytes(IReadOnlyCollection<ZipEntryRecord> entries, LoaderSettings settings)
    {
        const long chunk = LoaderSettings.ChunkSize;
        long rangeBuffer = RangeBufferSize(entries, settings);
        long slotUses = 0, slotCost = 0;
        var perEntry = new List<long>(entries.Count);
        foreach (var entry in entries)
        {
            var decodeChunks = Math.Min(4, 1 + Chunks(entry.Size, chunk));
            // One more for the small first range of an entry decoded from one stream.
            var ranges = Chunks(entry.CompressedSize, rangeBuffer) + (entry.CompressedSize > LoaderSettings.FirstRangeSize ? 1 : 0);
            switch (entry.Method)
            {
                case ZipFormat.MethodStored:
                    slotUses += Chunks(entry.Size, settings.RangeSize);
                    slotCost = Math.Max(slotCost, chunk);
                    perEntry.Add(chunk);
                    break;
                case ZipFormat.MethodZstd:
                    slotUses += Math.Max(ranges, Chunks(entry.Size, chunk));
                    slotCost = Math.Max(slotCost, Math.Max(rangeBuffer, 2 * chunk));
                    perEntry.Add((decodeChunks + 1) * chunk);
                    break;
                default:
                    slotUses += ranges;
                    slotCost = Math.Max(slotCost, rangeBuffer);
                    perEntry.Add(decodeChunks * chunk);
                    break;
            }
        }
        var entryBuffers = perEntry.OrderDescending().Take(settings.EntryParallelism).Sum();
        return Math.Min(settings.Parallelism, slotUses) * slotCost + entryBuffers;
    }

    /// <summary>
    /// The size of the load's prefetch buffers: the range size, or the largest compressed entry when all are smaller
    /// (each of them is one range then, and a 16 MiB buffer for a 300 KiB library would only take memory).
    /// </summary>
    public static int RangeBufferSize(IEnumerable<ZipEntryRecord> entries, LoaderSettings settings) =>
        (int)Math.Max(1, Math.Min(settings.RangeSize, entries.Where(e => e.Method != ZipFormat.MethodStored).Select(e => e.CompressedSize).DefaultIfEmpty(0).Max()));

    /// <summary>Checks the files of <paramref name="entries"/> against the limit <see cref="MemoryLimit.Find"/> gives, if any.</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.NotEnoughMemory"/>.</exception>
    public static void Check(string archive, IReadOnlyCollection<ZipEntryRecord> entries, LoaderSettings settings) =>
        Check(archive, Total(entries.Select(e => e.Size)), entries.Count, ReserveBytes(entries, settings), MemoryLimit.Find());

    /// <summary>Checks <paramref name="totalBytes"/> and <paramref name="reserve"/> against <paramref name="limit"/>; no limit, no check.</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.NotEnoughMemory"/>.</exception>
    public static void Check(string archive, long totalBytes, int fileCount, long reserve, MemoryLimit? limit)
    {
        if (limit is null || totalBytes == 0)
        {
            return;
        }
        var available = limit.Bytes - reserve;
        if (totalBytes <= available)
        {
            return;
        }
        // Lambda sets memory in whole MB (MiB), 128 to 10,240.
        var neededMb = (totalBytes + reserve + (1L << 20) - 1) >> 20;
        throw new SnapLoaderException(RuntimeErrorCodes.NotEnoughMemory,
            $"The {fileCount} files to load from {archive} take {totalBytes:N0} bytes ({Mib(totalBytes)}) of memory, but the function may use " +
            $"{limit.Bytes:N0} bytes ({Mib(limit.Bytes)}, from {limit.Source}), of which {Mib(reserve)} are kept for the .NET runtime ({Mib(RuntimeReserveBytes)}) " +
            $"and the loader's buffers for these files ({Mib(reserve - RuntimeReserveBytes)}): " +
            $"{Mib(Math.Max(0, available))} are left. Give the function at least {neededMb:N0} MB of memory (MemorySize in the SAM template, " +
            "--memory-size for the AWS CLI), or move fewer files. Nothing was loaded.");
    }

    private static long Chunks(long bytes, long size) => (bytes + size - 1) / size;

    /// <summary>The total of <paramref name="sizes"/>, or <see cref="long.MaxValue"/> if it would not fit a long.</summary>
    public static long Total(IEnumerable<long> sizes)
    {
        long total = 0;
        foreach (var size in sizes)
        {
            total = size > long.MaxValue - total ? long.MaxValue : total + size;
        }
        return total;
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):N0} MiB";
}
