using System.Buffers;

namespace SnapLoader.Runtime;

/// <summary>
/// A read-only stream of what the system's libzstd decodes from <c>compressed</c>: frames one after another, as
/// <c>zstd -d</c> reads them. Compressed input that ends inside a frame is an <see cref="InvalidDataException"/>, as a
/// corrupt frame is.
/// </summary>
internal sealed class SystemZstdStream : Stream
{
    private readonly SystemZstd _zstd;
    private readonly Stream _compressed;
    private readonly byte[] _input;
    private nint _context;
    private int _inputStart;
    private int _inputEnd;
    private bool _inputEnded;
    /// <summary>Whether the last frame begun is complete (libzstd returned 0): where the input may end.</summary>
    private bool _atFrameEnd = true;

    public unsafe SystemZstdStream(SystemZstd zstd, Stream compressed, int inputBufferSize)
    {
        _zstd = zstd;
        _compressed = compressed;
        _context = zstd.CreateDStream();
        if (_context == 0)
        {
            throw new OutOfMemoryException("libzstd could not create a decoder (ZSTD_createDStream).");
        }
        try
        {
            Check(zstd.InitDStream(_context));
        }
        catch
        {
            zstd.FreeDStream(_context);
            throw;
        }
        _input = ArrayPool<byte>.Shared.Rent(inputBufferSize);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (_inputStart == _inputEnd && !_inputEnded)
            {
                Refill(_compressed.Read(_input, 0, _input.Length));
            }
            if (Decode(buffer, out var produced))
            {
                return produced;
            }
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_inputStart == _inputEnd && !_inputEnded)
            {
                Refill(await _compressed.ReadAsync(_input, cancellationToken).ConfigureAwait(false));
            }
            if (Decode(buffer.Span, out var produced))
            {
                return produced;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Refill(int read)
    {
        _inputStart = 0;
        _inputEnd = read;
        _inputEnded = read == 0;
    }

    /// <summary>
    /// Decodes what the input holds into <paramref name="output"/> (with no input left, what libzstd still holds): true
    /// with the bytes produced (0 at the end), false when more input is needed first.
    /// </summary>
    private unsafe bool Decode(Span<byte> output, out int produced)
    {
        ObjectDisposedException.ThrowIf(_context == 0, this);
        produced = 0;
        var noMoreInput = _inputStart == _inputEnd && _inputEnded;
        if (output.IsEmpty || (noMoreInput && _atFrameEnd))
        {
            return true;
        }
        nuint consumed;
        fixed (byte* input = _input)
        fixed (byte* outputData = output)
        {
            var inBuffer = new SystemZstd.Buffer { Data = input + _inputStart, Size = (nuint)(_inputEnd - _inputStart) };
            var outBuffer = new SystemZstd.Buffer { Data = outputData, Size = (nuint)output.Length };
            var result = _zstd.DecompressStream(_context, &outBuffer, &inBuffer);
            Check(result);
            consumed = inBuffer.Position;
            _inputStart += (int)consumed;
            produced = (int)outBuffer.Position;
            // 0: a frame is complete and flushed; otherwise a hint of the input still to come.
            _atFrameEnd = result == 0;
        }
        if (produced > 0 || (_atFrameEnd && _inputStart == _inputEnd && _inputEnded))
        {
            return true;
        }
        if (consumed == 0 && noMoreInput)
        {
            throw new InvalidDataException("The zstd data ends inside a frame.");
        }
        if (consumed == 0 && _inputStart < _inputEnd)
        {
            throw new InvalidDataException("libzstd took no input and gave no output.");
        }
        return false;
    }

    private unsafe void Check(nuint result)
    {
        if (_zstd.IsError(result) != 0)
        {
            throw new InvalidDataException($"libzstd: {_zstd.ErrorName(result)}.");
        }
    }

    protected override unsafe void Dispose(bool disposing)
    {
        var context = Interlocked.Exchange(ref _context, 0);
        if (context != 0)
        {
            _zstd.FreeDStream(context);
            ArrayPool<byte>.Shared.Return(_input);
        }
        base.Dispose(disposing);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
