using System.Globalization;
using System.Net.Sockets;
using Amazon.S3.Model;

namespace SnapLoader.Runtime;

/// <summary>
/// One byte range of an S3 object as a stream that mends itself: when its body breaks off (a reset, an early end,
/// or no bytes for <see cref="S3RetrySettings.StallTimeout"/>), it drops the connection, waits the backoff and asks
/// for the rest of the range from the byte it reached, within the range's attempts (<see cref="S3RangeAttempts"/>).
/// Its reader sees either every byte of the range, in order, or a <see cref="SnapLoaderException"/>.
/// </summary>
internal sealed class S3RangeStream : Stream
{
    private readonly S3ArchiveSource _source;
    private readonly S3RangeAttempts _attempts;
    private GetObjectResponse? _response;
    private long _position;

    private S3RangeStream(S3ArchiveSource source, long offset, long length)
    {
        _source = source;
        _attempts = new S3RangeAttempts(source, offset, length);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _attempts.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>The whole object's length, from the first answer's Content-Range.</summary>
    public long? ObjectLength { get; private set; }

    /// <summary>Opens the range: returns once S3 answered its first GET with the bytes, so errors such as NoSuchKey come from here.</summary>
    public static async Task<S3RangeStream> OpenAsync(S3ArchiveSource source, long offset, long length, CancellationToken cancellationToken)
    {
        var stream = new S3RangeStream(source, offset, length);
        try
        {
            await stream.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return stream;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var want = (int)Math.Min(buffer.Length, _attempts.Length - _position);
        if (want == 0)
        {
            return 0;
        }
        while (true)
        {
            if (_response is null)
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            Exception failure;
            using (var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stall.CancelAfter(_source.Retry.StallTimeout);
                try
                {
                    var read = await _response!.ResponseStream.ReadAsync(buffer[..want], stall.Token).ConfigureAwait(false);
                    if (read > 0)
                    {
                        _position += read;
                        _source.NoteReceived(read);
                        return read;
                    }
                    failure = new IOException($"the body ended after {_position:N0} of {_attempts.Length:N0} bytes");
                }
                catch (Exception e) when (cancellationToken.IsCancellationRequested)
                {
                    // Whatever the aborted read threw, the caller's cancellation is what happened.
                    throw new OperationCanceledException("The read was cancelled.", e, cancellationToken);
                }
                catch (Exception e) when (e is OperationCanceledException && stall.IsCancellationRequested)
                {
                    failure = new TimeoutException($"no bytes for the stall timeout of {_source.Retry.StallTimeout.TotalSeconds:0.###} s after {_position:N0} of {_attempts.Length:N0} bytes", e);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or SocketException or ObjectDisposedException)
                {
                    failure = e;
                }
            }
            // The connection is in an unknown state: disposing the answer closes it instead of returning it to the pool.
            DropResponse();
            await _attempts.FailedAsync(failure, _attempts.Offset + _position, cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropResponse();
        }
        base.Dispose(disposing);
    }

    /// <summary>Sends GETs for the rest of the range until one answers with exactly those bytes.</summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var from = _attempts.Offset + _position;
        var response = await _attempts.GetAsync(from, cancellationToken).ConfigureAwait(false);
        var (start, total) = ParseContentRange(response.ContentRange);
        // A server that ignores Range answers 200 with the whole object: its length is then the object's.
        ObjectLength ??= total ?? (start is null ? response.ContentLength : null);
        var expected = _attempts.Length - _position;
        if ((start is not null && start != from) || (start is null && from != 0))
        {
            response.Dispose();
            throw new SnapLoaderException(RuntimeErrorCodes.S3Failed,
                $"S3 GetObject on {_source.Description} answered '{response.ContentRange}' (HTTP {(int)response.HttpStatusCode}) to a request for bytes {from}-{from + expected - 1}: " +
                "the endpoint ignores Range requests. Check AWS_ENDPOINT_URL_S3 and any proxy in between.");
        }
        if (response.ContentLength < expected)
        {
            // The object ends inside the range: shorter than its own directory says, and asking again will not lengthen it.
            response.Dispose();
            throw RuntimeErrors.Truncated(_source.Description, _attempts.Offset, _attempts.Length, from + response.ContentLength);
        }
        _response = response;
    }

    private void DropResponse()
    {
        _response?.Dispose();
        _response = null;
    }

    /// <summary>"bytes 100-199/1000" gives (100, 1000); anything else (null, null).</summary>
    private static (long? Start, long? Total) ParseContentRange(string? contentRange)
    {
        const string unit = "bytes ";
        if (contentRange is null || !contentRange.StartsWith(unit, StringComparison.OrdinalIgnoreCase))
        {
            return (null, null);
        }
        var dash = contentRange.IndexOf('-', unit.Length);
        var slash = contentRange.IndexOf('/', unit.Length);
        if (dash < 0 || slash < dash)
        {
            return (null, null);
        }
        long? start = long.TryParse(contentRange.AsSpan(unit.Length, dash - unit.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;
        long? total = long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
        return (start, total);
    }
}
