namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Knobs that are constants in production and only move in tests, so a test can reach a code path
/// (Zip64, multi-piece deflate, multi-frame zstd) with a few kilobytes instead of gigabytes.
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
    /// A zstd entry larger than this is written as independent frames of this much content each, plus a seek
    /// table (<see cref="ZstdSeekTable"/>), so the runtime decodes its frames on every core at once instead of one
    /// frame on one core, and the build compresses them on every worker. zstd at level 3 looks back 2 MiB at most,
    /// so cutting every 32 MiB costs almost nothing in size. 32 MiB of content compresses to about 7 MiB, so one
    /// frame is about one ranged GET of the size S3 serves best (8-16 MB); the loader decodes each frame straight
    /// from its read, so a frame's size never bounds its memory.
    /// </summary>
    public int ZstdFrameSize { get; init; } = 32 << 20;

    /// <summary>Bytes read from a source per call; one such buffer per busy worker.</summary>
    public int BufferSize { get; init; } = 1 << 20;
}
