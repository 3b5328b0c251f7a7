namespace SnapLoader.Runtime;

/// <summary>
/// How <see cref="S3ArchiveSource"/> retries one byte range: how many GETs it may send, how long it waits between
/// them (exponential backoff with full jitter), and how long a response may stay silent before it counts as failed.
/// </summary>
/// <remarks>
/// The defaults fit Lambda's 10 s init together with the load's deadline (SNAPLOADER_LOAD_TIMEOUT, 9 s): four attempts
/// wait at most 0.2 + 0.4 + 0.8 s between them, and a stalled response is dropped after 2 s, where a healthy one
/// sends its first byte within about 100 ms and then about 85 MB/s. The deadline bounds the whole load whatever these say.
/// </remarks>
internal sealed class S3RetrySettings
{
    /// <summary>The defaults described in the remarks.</summary>
    public static S3RetrySettings Default { get; } = new();

    /// <summary>GET requests per range at most, the first included; a resume after a failure mid-body is one of them.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The cap of the first backoff; each further one doubles it, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The largest cap a backoff can have.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a request may wait for its answer's head, and a body for its next bytes, before the attempt counts as
    /// failed: its connection is dropped and the rest of the range is asked again.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A number in [0, 1) for each backoff; tests pin it to make the delays exact.</summary>
    internal Func<double> Jitter { get; init; } = Random.Shared.NextDouble;

    /// <summary>
    /// The wait before the next attempt after <paramref name="failedAttempts"/> failed ones: "full jitter", a uniform
    /// draw below the exponential cap, so that the parallel ranges that failed together do not come back together.
    /// </summary>
    public TimeSpan DelayAfter(int failedAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failedAttempts);
        var cap = BaseDelay.Ticks * Math.Pow(2, Math.Min(failedAttempts - 1, 30));
        return TimeSpan.FromTicks((long)(Math.Min(cap, MaxDelay.Ticks) * Math.Clamp(Jitter(), 0, 1)));
    }

    /// <summary>Throws when a value is out of its range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThan(BaseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, BaseDelay);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StallTimeout, TimeSpan.Zero);
    }
}
