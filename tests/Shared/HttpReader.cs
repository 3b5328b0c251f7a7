using System.Text;

namespace SnapLoader.Tests;

/// <summary>Reads HTTP/1.1 heads up to their blank line, and then bodies, from one buffered stream.</summary>
internal sealed class HttpReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next head, or <see langword="null"/> when the stream ends between messages.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken token)
    {
        while (true)
        {
            var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (at >= 0)
            {
                var head = Encoding.ASCII.GetString(_buffer, _start, at);
                _start += at + 4;
                return head;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                (_end, _start) = (_end - _start, 0);
            }
            if (_end == _buffer.Length)
            {
                throw new InvalidDataException("An HTTP head longer than 64 KiB.");
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), token).ConfigureAwait(false);
            if (read == 0)
            {
                return _end == _start ? null : throw new IOException("The stream ended inside an HTTP head.");
            }
            _end += read;
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken token)
    {
        if (_end > _start)
        {
            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }
        return await stream.ReadAsync(destination, token).ConfigureAwait(false);
    }

    /// <summary>Copies the next <paramref name="count"/> bytes (a body) to <paramref name="destination"/>, or to nowhere if it is null.</summary>
    public async Task CopyAsync(Stream? destination, long count, CancellationToken token)
    {
        var chunk = new byte[64 * 1024];
        while (count > 0)
        {
            var read = await ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, count)), token).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The stream ended inside a body.");
            }
            if (destination is not null)
            {
                await destination.WriteAsync(chunk.AsMemory(0, read), token).ConfigureAwait(false);
            }
            count -= read;
        }
    }

    /// <summary>Reads and drops everything up to the end of the stream.</summary>
    public async Task DrainAsync(CancellationToken token)
    {
        var chunk = new byte[64 * 1024];
        while (await ReadAsync(chunk, token).ConfigureAwait(false) > 0)
        {
        }
    }
}
