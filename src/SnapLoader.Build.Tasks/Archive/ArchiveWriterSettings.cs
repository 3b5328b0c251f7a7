namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Knobs that are constants in production and only move in tests, so a test can reach a code path
/// (Zip64, multi-piece deflate, multi-threaded zstd) with a few kilobytes instead of gigabytes.
/// None of them depends on the machine, which keeps the output a function of the inputs alone.
/// </summary>
internal sealed record ArchiveWriterSettings
{
    public static ArchiveWriterSettings Default { get; } = new();

    /// <summary>Write Zip64 extra fields and end records even when every value fits in 32 bits.</summary>
    public bool ForceZip64 { get; init; }

    /// <summary>
    /// Deflate compresses a file in pieces of this size on separate workers and joins them (each piece
    /// but the last ends on a sync flush, so the joined stream is one valid deflate stream). Restarting
    /// the 32 KiB window every 16 MiB costs well under 0.1% of size.
    /// </summary>
    public int DeflatePieceSize { get; init; } = 16 << 20;

    /// <summary>
    /// From this size on, a zstd entry is compressed by zstd's own worker threads. Zstd's output is the
    /// same for any worker count of one or more (but differs from zero), so the switch depends on size
    /// only, never on how many workers the machine has.
    /// </summary>
    public long ZstdMultiThreadThreshold { get; init; } = 16 << 20;

    /// <summary>Bytes read from a source per call; one such buffer per busy worker.</summary>
    public int BufferSize { get; init; } = 1 << 20;
}
