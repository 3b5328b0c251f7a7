using System.Diagnostics;
using System.Globalization;

namespace SnapLoader.Runtime;

/// <summary>
/// The time a whole load may take, from its first request to its last verified file: <c>SNAPLOADER_LOAD_TIMEOUT</c>
/// in seconds, by default 9, so that a load that cannot finish fails with its own error inside Lambda's 10 s init
/// rather than as a bare init timeout; 125 when the init is SnapStart's (<c>AWS_LAMBDA_INITIALIZATION_TYPE=snap-start</c>),
/// which may take 130 s (or the function's timeout, when that is longer). <c>0</c> turns it off.
/// </summary>
/// <remarks>
/// The retries of each range have their own bounds (<see cref="S3RetrySettings"/>); this one bounds their sum, and
/// everything else the load waits for. When it passes, the load is cancelled, which closes every memory file it made.
/// </remarks>
internal sealed class LoadDeadline
{
    /// <summary>The environment variable that sets the deadline.</summary>
    public const string Variable = "SNAPLOADER_LOAD_TIMEOUT";

    /// <summary>Nine seconds: Lambda's init phase has ten, and the function's own init needs some.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(9);

    /// <summary>125 seconds: SnapStart's init has at least 130, and the function's own init needs some.</summary>
    public static readonly TimeSpan SnapStartTimeout = TimeSpan.FromSeconds(125);

    /// <summary>The variable Lambda sets to <c>snap-start</c> for the init whose snapshot SnapStart takes.</summary>
    public const string InitializationTypeVariable = "AWS_LAMBDA_INITIALIZATION_TYPE";

    /// <summary>The default for this init: <see cref="SnapStartTimeout"/> for SnapStart's, else <see cref="DefaultTimeout"/>.</summary>
    public static TimeSpan DefaultForThisInit =>
        string.Equals(Environment.GetEnvironmentVariable(InitializationTypeVariable), "snap-start", StringComparison.Ordinal) ? SnapStartTimeout : DefaultTimeout;

    /// <summary>A deadline of <paramref name="timeout"/>, or none when <see langword="null"/>.</summary>
    public LoadDeadline(TimeSpan? timeout)
    {
        if (timeout is { } value)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(timeout));
        }
        Timeout = timeout;
    }

    /// <summary>How long a load may take; <see langword="null"/> when it may take as long as it does.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>The deadline <see cref="Variable"/> sets; a value that is not a number is reported and the default used.</summary>
    public static LoadDeadline FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        var defaultTimeout = DefaultForThisInit;
        if (string.IsNullOrWhiteSpace(text))
        {
            return new LoadDeadline(defaultTimeout);
        }
        // CancelAfter takes at most 2^32 - 2 ms (about 49 days); below a millisecond the deadline would have passed already.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && (seconds == 0 || (seconds >= 0.001 && seconds <= uint.MaxValue / 1000.0 - 1)))
        {
            return new LoadDeadline(seconds == 0 ? null : TimeSpan.FromSeconds(seconds));
        }
        // A typo must not fail the init it was meant to tune.
        LambdaLog.Warn($"{Variable}='{text}' is not a number of seconds from 0.001 to about 4 million (0 turns the deadline off); the default of {defaultTimeout.TotalSeconds:0} s applies");
        return new LoadDeadline(defaultTimeout);
    }

    /// <summary>
    /// Runs <paramref name="load"/> with a token that also fires at the deadline, and turns that cancellation into
    /// <see cref="RuntimeErrorCodes.LoadDeadlineExceeded"/>, naming <paramref name="source"/> and how long it waited.
    /// </summary>
    /// <exception cref="SnapLoaderException">The load failed, or the deadline passed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<T> RunAsync<T>(IArchiveSource source, Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (Timeout is { } timeout)
        {
            deadline.CancelAfter(timeout);
        }
        var clock = Stopwatch.StartNew();
        try
        {
            return await load(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw FaultErrors.DeadlineExceeded(source.Description, Timeout!.Value, clock.Elapsed, (source as S3ArchiveSource)?.Progress, e);
        }
    }
}
