using System.Diagnostics;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Runtime;

/// <summary>
/// The GET requests of one byte range of the archive: the first, the retries after a failed answer, and the resumes
/// after a body broke off. All count against <see cref="S3RetrySettings.MaxAttempts"/>, with a backoff before each
/// retry; a failure that another attempt cannot mend ends them at once.
/// </summary>
internal sealed class S3RangeAttempts
{
    private readonly S3ArchiveSource _source;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public S3RangeAttempts(S3ArchiveSource source, long offset, long length)
    {
        _source = source;
        Offset = offset;
        Length = length;
    }

    /// <summary>The first byte of the range.</summary>
    public long Offset { get; }

    /// <summary>The range's length.</summary>
    public long Length { get; }

    /// <summary>GET requests sent so far.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Sends GETs for bytes [<paramref name="from"/>, end of the range) until one is answered, each allowed
    /// <see cref="S3RetrySettings.StallTimeout"/> for its answer's head.
    /// </summary>
    /// <exception cref="SnapLoaderException">A failure not worth retrying, or the last attempt failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<GetObjectResponse> GetAsync(long from, CancellationToken cancellationToken)
    {
        while (true)
        {
            Count++;
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stall.CancelAfter(_source.Retry.StallTimeout);
            try
            {
                var request = new GetObjectRequest { BucketName = _source.Bucket, Key = _source.Key, ByteRange = new ByteRange(from, Offset + Length - 1) };
                return await _source.Client.GetObjectAsync(request, stall.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var failure = e is OperationCanceledException && stall.IsCancellationRequested
                    ? new TimeoutException($"no answer within the stall timeout of {_source.Retry.StallTimeout.TotalSeconds:0.###} s", e)
                    : e;
                await FailedAsync(failure, from, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// After a failed attempt that had reached byte <paramref name="reached"/>: throws the error to report when the
    /// failure will not pass or no attempt is left, else waits the backoff so the caller can try again.
    /// </summary>
    public async Task FailedAsync(Exception failure, long reached, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (failure is AmazonS3Exception { StatusCode: HttpStatusCode.RequestedRangeNotSatisfiable })
        {
            // The object ends before the range starts: a shorter object than its directory says, never transient.
            throw RuntimeErrors.Truncated(_source.Description, Offset, Length, Offset == 0 ? 0 : _source.KnownLength);
        }
        if (!S3Failures.IsTransient(failure))
        {
            throw _source.Translate(failure, "GetObject");
        }
        _source.NoteFailure(failure);
        if (Count >= _source.Retry.MaxAttempts)
        {
            var tried = $" Tried bytes {Offset}-{Offset + Length - 1} {Count} times over {_clock.Elapsed.TotalSeconds:F1} s.";
            throw S3Failures.IsConnectionFailure(failure)
                ? _source.Translate(failure, "GetObject", tried)
                : FaultErrors.RangeFailed(_source.Bucket, _source.Key, Offset, Length, reached, Count, _clock.Elapsed, failure);
        }
        var delay = _source.Retry.DelayAfter(Count);
        LambdaLog.Warn($"retrying bytes {Offset}-{Offset + Length - 1} of {_source.Description} from byte {reached}: {S3Failures.Describe(failure)}", new Dictionary<string, object?>
        {
            ["attempt"] = Count + 1,
            ["of"] = _source.Retry.MaxAttempts,
            ["delayMs"] = (long)delay.TotalMilliseconds,
        });
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
    }
}
