using System.Diagnostics;

namespace SnapLoader.Runtime;

/// <summary>
/// The compressed bytes of one entry as a forward-only stream for its decoder, fed by ranged reads that run ahead of
/// the decoder so that downloading and decoding overlap. At most <c>depth</c> ranges are fetched or waiting to be
/// decoded, and each holds one pooled buffer and one of the loader's shared fetch slots until the decoder is past it:
/// memory stays at most depth x range size, whatever the entry's size.
/// </summary>
/// <remarks>
/// Ranges of one entry take slots strictly in order (each fetch queues for a slot only after the one before it got
/// one; the semaphore serves waiters first come, first served), and the decoder only ever waits for its oldest range. So
/// the oldest range of any entry that holds slots always has one, and the loader cannot deadlock however many entries
/// share the slots. Without the ordering, two entries could each hold slots for later ranges while their first ranges
/// wait for a slot forever.
/// Dispose with <see cref="DisposeAsync"/>: it waits for fetches still running before their buffers go back to the pool.
/// </remarks>
internal sealed class RangePrefetchStream : Stream
{
    private readonly IArchiveSource _source;
    private readonly long _start;
    private readonly long _length;
    private readonly int _rangeSize;
    private readonly int _depth;
    private readonly SemaphoreSlim _slots;
    private readonly RangeBufferPool _buffers;
    private readonly LoadStatistics _statistics;
    private readonly CancellationTokenSource _cancel;
    private readonly Queue<(Task<byte[]> Fetch, int Length)> _pending = new();
    private long _nextFetch;
    private Task _previousAcquired = Task.CompletedTask;
    private long _position;
    private byte[]? _current;
    private int _currentLength;
    private int _currentOffset;
    private bool _disposed;

    public RangePrefetchStream(IArchiveSource source, long start, long length, int depth, SemaphoreSlim slots, RangeBufferPool buffers, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        _buffers = buffers;
        _statistics = statistics;
        _source = source;
        _start = start;
        _length = length;
        _rangeSize = buffers.BufferSize;
        _depth = Math.Max(1, depth);
        _slots = slots;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        TopUp();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>Stopwatch ticks the reader spent waiting for a range still being fetched: not decoding time.</summary>
    public long WaitTicks { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.Length == 0)
        {
            return 0;
        }
        if (_current is null || _currentOffset == _currentLength)
        {
            ReleaseCurrent();
            if (_position == _length)
            {
                return 0;
            }
            // The range just finished frees a place: with a depth of 1 the next range is only now requested.
            TopUp();
            // Awaited before it leaves the queue: if it fails, it has released its own buffer and slot, and DisposeAsync
            // still sees it. The fetch observes the loader's token, so cancellation needs no second token here.
            var (fetch, length) = _pending.Peek();
            var waiting = fetch.IsCompleted ? 0 : Stopwatch.GetTimestamp();
            var fetched = await fetch.ConfigureAwait(false);
            if (waiting != 0)
            {
                WaitTicks += Stopwatch.GetTimestamp() - waiting;
            }
            _ = _pending.Dequeue();
            _current = fetched;
            _currentLength = length;
            _currentOffset = 0;
            TopUp();
        }
        var count = Math.Min(buffer.Length, _currentLength - _currentOffset);
        _current.AsSpan(_currentOffset, count).CopyTo(buffer.Span);
        _currentOffset += count;
        _position += count;
        return count;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        ReleaseCurrent();
        _cancel.Cancel();
        // Every fetch still running must finish (or fail) before its buffer and slot are given back.
        while (_pending.TryDequeue(out var pending))
        {
            var fetch = pending.Fetch;
            try
            {
                var buffer = await fetch.ConfigureAwait(false);
                _buffers.Return(buffer);
                _slots.Release();
            }
            catch
            {
                // The fetch released what it held when it failed; its error already reached the decoder or no longer matters.
            }
        }
        _cancel.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void ReleaseCurrent()
    {
        if (_current is not null)
        {
            _buffers.Return(_current);
            _current = null;
            _slots.Release();
        }
    }

    /// <summary>Starts fetches until <c>depth</c> ranges are pending (the one being decoded counts).</summary>
    private void TopUp()
    {
        while (_nextFetch < _length && _pending.Count + (_current is null ? 0 : 1) < _depth)
        {
            var offset = _nextFetch;
            // A small first range, so that decoding starts after its first megabytes arrive rather than a whole range.
            var size = offset == 0 ? Math.Min(_rangeSize, LoaderSettings.FirstRangeSize) : _rangeSize;
            var length = (int)Math.Min(size, _length - offset);
            _nextFetch += length;
            // Each fetch waits for a slot only once the fetch before it has one: that keeps this entry's slots in range order.
            var acquired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending.Enqueue((FetchAsync(_previousAcquired, acquired, _start + offset, length, _cancel.Token), length));
            _previousAcquired = acquired.Task;
        }
    }

    private async Task<byte[]> FetchAsync(Task previousAcquired, TaskCompletionSource acquired, long offset, int length, CancellationToken cancellationToken)
    {
        try
        {
            await previousAcquired.ConfigureAwait(false);
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also on failure (cancellation): the next fetch must not wait forever for its turn.
            acquired.TrySetResult();
        }
        byte[]? buffer = null;
        try
        {
            // Off the decoder's thread: a local file's reads complete synchronously and would otherwise run inline here.
            await Task.Yield();
            buffer = _buffers.Rent();
            var started = Stopwatch.GetTimestamp();
            await using (var stream = await _source.OpenRangeAsync(offset, length, cancellationToken).ConfigureAwait(false))
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
            _statistics.AddRange(length, Stopwatch.GetTimestamp() - started);
            return buffer;
        }
        catch
        {
            if (buffer is not null)
            {
                _buffers.Return(buffer);
            }
            _slots.Release();
            throw;
        }
    }
}
