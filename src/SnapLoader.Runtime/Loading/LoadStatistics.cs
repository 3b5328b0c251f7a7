using System.Diagnostics;

namespace SnapLoader.Runtime;

/// <summary>
/// Where the time of one load went, stage by stage. The stages overlap (ranges download while earlier ones are decoded,
/// and a second thread hashes and writes what the decoder produced), so no stage has a wall time of its own: each one
/// sums the time its threads spent busy in it. Set against the load's wall time this names the bottleneck: the stage
/// whose busy time comes closest to wall time x the threads that can run it.
/// </summary>
/// <remarks>Updated from many threads at once; read once the load is over.</remarks>
internal sealed class LoadStatistics
{
    private long _downloadBytes;
    private long _downloadTicks;
    private long _ranges;
    private long _decodeBytes;
    private long _decodeTicks;
    private long _verifyBytes;
    private long _verifyTicks;
    private long _writeTicks;

    /// <summary>Which zstd decoder the load used (<see cref="ZstdDecoders.Description"/>); null when it had no zstd entry.</summary>
    public string? ZstdDecoder { get; set; }

    /// <summary>Compressed (or stored) bytes read from the source, in ranged reads.</summary>
    public long DownloadBytes => Volatile.Read(ref _downloadBytes);

    /// <summary>Ranged reads made for entry data (local headers and the central directory are not counted).</summary>
    public long Ranges => Volatile.Read(ref _ranges);

    /// <summary>Time the ranged reads took, summed over the reads in flight at once.</summary>
    public TimeSpan DownloadBusy => Ticks(ref _downloadTicks);

    /// <summary>Bytes that came out of a decoder (deflate or zstd entries; stored entries are not decoded).</summary>
    public long DecodeBytes => Volatile.Read(ref _decodeBytes);

    /// <summary>Time spent decoding, without the time a decoder waited for its next range.</summary>
    public TimeSpan DecodeBusy => Ticks(ref _decodeTicks);

    /// <summary>Bytes hashed: SHA-256 when there is a manifest, else CRC-32.</summary>
    public long VerifyBytes => Volatile.Read(ref _verifyBytes);

    /// <summary>Time spent hashing.</summary>
    public TimeSpan VerifyBusy => Ticks(ref _verifyTicks);

    /// <summary>Time spent writing into memory files.</summary>
    public TimeSpan WriteBusy => Ticks(ref _writeTicks);

    // Durations below are in Stopwatch ticks (differences of Stopwatch.GetTimestamp()).

    public void AddRange(long bytes, long ticks)
    {
        Interlocked.Add(ref _downloadBytes, bytes);
        Interlocked.Increment(ref _ranges);
        Interlocked.Add(ref _downloadTicks, ticks);
    }

    /// <summary>Records decoded bytes and the time it took, waits for input already taken off.</summary>
    public void AddDecode(long bytes, long ticks)
    {
        Interlocked.Add(ref _decodeBytes, bytes);
        Interlocked.Add(ref _decodeTicks, ticks);
    }

    public void AddVerify(long bytes, long ticks)
    {
        Interlocked.Add(ref _verifyBytes, bytes);
        Interlocked.Add(ref _verifyTicks, ticks);
    }

    public void AddWrite(long ticks) => Interlocked.Add(ref _writeTicks, ticks);

    private static TimeSpan Ticks(ref long ticks) => Stopwatch.GetElapsedTime(0, Volatile.Read(ref ticks));
}
