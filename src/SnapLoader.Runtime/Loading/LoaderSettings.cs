namespace SnapLoader.Runtime;

/// <summary>How <see cref="ArchiveLoader"/> fetches an archive.</summary>
/// <remarks>
/// The loader's managed buffers are bounded by these values, never by the archive: at most <see cref="Parallelism"/>
/// ranges of <see cref="RangeSize"/> bytes are prefetched for a compressed entry of one stream (stored entries stream
/// each range through a 1 MiB buffer straight into the memory file, and the frames of a large zstd entry decode
/// straight from their ranged reads through 1 MiB buffers), plus about four 1 MiB chunks per entry being decoded, plus
/// the central directory. With the defaults on 2 cores: 4 x 16 MiB + 4 x 4 MiB at most. zstd's window lives in native
/// memory.
/// </remarks>
internal sealed class LoaderSettings
{
    public const int MinimumRangeSize = 8 << 20;
    public const int MaximumRangeSize = 64 << 20;
    public const int DefaultRangeSize = 16 << 20;

    /// <summary>
    /// The first range of an entry decoded from one stream: 2 MiB arrive in about 25 ms at S3's 85 MB/s per connection,
    /// a whole range in about 0.2 s, and the decoder waits for its first range.
    /// </summary>
    internal const int FirstRangeSize = 2 << 20;

    /// <summary>The buffer each worker copies, decodes and hashes through.</summary>
    internal const int ChunkSize = 1 << 20;

    /// <summary>
    /// Bytes per ranged GET: 8-64 MiB (S3's guidance is 8-16 MiB; about 85-90 MB/s per connection). A compressed
    /// entry's prefetched ranges are held in memory until decoded, so this times <see cref="Parallelism"/> bounds the
    /// loader's buffers.
    /// </summary>
    public int RangeSize { get; init; } = DefaultRangeSize;

    /// <summary>Ranges in flight at once, over all entries: by default twice the processors, at least 4.</summary>
    public int Parallelism { get; init; } = Math.Max(4, 2 * Environment.ProcessorCount);

    /// <summary>
    /// Entries loaded at once; by default as many as <see cref="Parallelism"/>. More than the processors on purpose: a
    /// small entry costs two round trips (its local header, then its data) and a stored one mostly waits on I/O, while
    /// large compressed entries share the cores fairly anyway. Each decoding entry holds about four 1 MiB chunks.
    /// </summary>
    public int EntryParallelism { get; init; } = Math.Max(4, 2 * Environment.ProcessorCount);

    /// <summary>Tests lift the 8 MiB floor to reach multi-range paths with small files.</summary>
    internal bool AllowAnyRangeSize { get; init; }

    public static LoaderSettings Default { get; } = new();

    /// <summary>Throws when a value is out of its range.</summary>
    public void Validate()
    {
        if (AllowAnyRangeSize ? RangeSize < 1 || RangeSize > MaximumRangeSize : RangeSize is < MinimumRangeSize or > MaximumRangeSize)
        {
            throw new ArgumentOutOfRangeException(nameof(RangeSize), RangeSize, $"The range size must be {MinimumRangeSize >> 20}-{MaximumRangeSize >> 20} MiB.");
        }
        if (Parallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "Parallelism must be at least 1.");
        }
        if (EntryParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(EntryParallelism), EntryParallelism, "Entry parallelism must be at least 1.");
        }
    }
}
