namespace SnapLoader.Runtime;

/// <summary>
/// Checks, before the first memory file exists, that the files to load fit the function's memory. Memory files are
/// RAM (shmem) charged to the function's cgroup like its heap, and Lambda has no swap: a load that does not fit would
/// be ended by the OOM killer partway through, with no message, or leave the function too little to run.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>
    /// Kept for the .NET runtime and the function's own init: a dotnet8 function that does nothing reports about 60-70
    /// MB "Max Memory Used", and the moved native libraries allocate some of their own once loaded. 96 MiB leaves a
    /// margin above that without refusing loads that would run.
    /// </summary>
    public const long RuntimeReserveBytes = 96L << 20;

    /// <summary>
    /// The reserve for <paramref name="options"/>: <see cref="RuntimeReserveBytes"/> plus the loader's own buffers while
    /// it runs (the prefetched ranges, and about four 1 MiB chunks per entry being decoded; see <see cref="LoaderOptions"/>).
    /// </summary>
    public static long ReserveBytes(LoaderOptions options) =>
        RuntimeReserveBytes + (long)options.Parallelism * options.RangeSize + (long)options.EntryParallelism * 4 * LoaderOptions.ChunkSize;

    /// <summary>Checks <paramref name="totalBytes"/> against the limit <see cref="MemoryLimit.Find"/> gives, if any.</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.NotEnoughMemory"/>.</exception>
    public static void Check(string archive, long totalBytes, int fileCount, LoaderOptions options) =>
        Check(archive, totalBytes, fileCount, options, MemoryLimit.Find());

    /// <summary>Checks <paramref name="totalBytes"/> against <paramref name="limit"/>; no limit, no check.</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.NotEnoughMemory"/>.</exception>
    public static void Check(string archive, long totalBytes, int fileCount, LoaderOptions options, MemoryLimit? limit)
    {
        if (limit is null || totalBytes == 0)
        {
            return;
        }
        var reserve = ReserveBytes(options);
        var available = limit.Bytes - reserve;
        if (totalBytes <= available)
        {
            return;
        }
        // Lambda sets memory in whole MB (MiB), 128 to 10,240.
        var neededMb = (totalBytes + reserve + (1L << 20) - 1) >> 20;
        throw new SnapLoaderException(RuntimeErrorCodes.NotEnoughMemory,
            $"The {fileCount} files to load from {archive} take {totalBytes:N0} bytes ({Mib(totalBytes)}) of memory, but the function may use " +
            $"{limit.Bytes:N0} bytes ({Mib(limit.Bytes)}, from {limit.Source}), of which {Mib(reserve)} are kept for the .NET runtime and the loader's buffers: " +
            $"{Mib(Math.Max(0, available))} are left. Give the function at least {neededMb:N0} MB of memory (MemorySize in the SAM template, " +
            "--memory-size for the AWS CLI), or move fewer files. Nothing was loaded.");
    }

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
