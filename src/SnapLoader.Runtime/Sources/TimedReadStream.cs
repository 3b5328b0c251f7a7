using System.Diagnostics;

namespace SnapLoader.Runtime;

/// <summary>
/// A read-only pass-through that counts the time its reader spends waiting on the stream underneath: a decoder that
/// pulls straight from a ranged read mixes downloading with decoding, and this is what tells the two apart.
/// </summary>
internal sealed class TimedReadStream(Stream inner) : Stream
{
    /// <summary>Stopwatch ticks spent inside the underlying stream's reads.</summary>
    public long ReadTicks { get; private set; }

    /// <summary>Bytes read through this stream.</summary>
    public long BytesRead { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var started = Stopwatch.GetTimestamp();
        var read = inner.Read(buffer);
        Account(started, read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(started, read);
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Account(long started, int read)
    {
        ReadTicks += Stopwatch.GetTimestamp() - started;
        BytesRead += read;
    }
}
