namespace SnapLoader.Build.Tasks.Elf;

/// <summary>
/// A read-only, seekable view of another stream in which some byte ranges read as replacement bytes.
/// <see cref="ElfDynamicReader"/> uses it to show ELFSharp a file whose unneeded sections are hidden.
/// </summary>
internal sealed class OverlayReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IReadOnlyList<Overlay> _overlays;
    private long _position;

    /// <param name="inner">The stream to read; left open when this view is disposed.</param>
    /// <param name="overlays">Ranges that read as their replacement bytes instead of the inner stream's.</param>
    public OverlayReadStream(Stream inner, IReadOnlyList<Overlay> overlays)
    {
        _inner = inner;
        _overlays = overlays;
    }

    /// <summary>Bytes that replace <c>Bytes.Length</c> bytes of the inner stream from <c>Offset</c> on.</summary>
    public readonly record struct Overlay(long Offset, byte[] Bytes);

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_inner.Position != _position)
        {
            _inner.Position = _position;
        }
        var read = _inner.Read(buffer);
        foreach (var overlay in _overlays)
        {
            var start = Math.Max(_position, overlay.Offset);
            var end = Math.Min(_position + read, overlay.Offset + overlay.Bytes.Length);
            if (start < end)
            {
                overlay.Bytes.AsSpan((int)(start - overlay.Offset), (int)(end - start))
                    .CopyTo(buffer[(int)(start - _position)..]);
            }
        }
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
