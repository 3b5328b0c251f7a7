using Microsoft.Win32.SafeHandles;

namespace SnapLoader.Runtime;

/// <summary>An archive in a local file, read with positional reads (pread) so concurrent ranges share one handle.</summary>
internal sealed class LocalFileArchiveSource : IArchiveSource
{
    private readonly SafeFileHandle _handle;

    private LocalFileArchiveSource(string path, SafeFileHandle handle)
    {
        Description = path;
        _handle = handle;
    }

    public string Description { get; }

    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.ArchiveUnreadable"/> when it cannot be opened.</exception>
    public static LocalFileArchiveSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        try
        {
            // Asynchronous I/O buys nothing for a local file on Linux (the thread pool does the pread anyway).
            return new LocalFileArchiveSource(full, File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw RuntimeErrors.ArchiveUnreadable(full, e.Message, e);
        }
    }

    public ValueTask<long> GetLengthAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return ValueTask.FromResult(RandomAccess.GetLength(_handle));
        }
        catch (IOException e)
        {
            throw RuntimeErrors.ArchiveUnreadable(Description, e.Message, e);
        }
    }

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var done = 0;
        while (done < destination.Length)
        {
            int read;
            try
            {
                read = RandomAccess.Read(_handle, destination.Span[done..], offset + done);
            }
            catch (IOException e)
            {
                throw RuntimeErrors.ArchiveUnreadable(Description, e.Message, e);
            }
            if (read == 0)
            {
                throw RuntimeErrors.Truncated(Description, offset, destination.Length, offset + done);
            }
            done += read;
        }
        return ValueTask.CompletedTask;
    }

    public Task<Stream> OpenRangeAsync(long offset, long length, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<Stream>(new RangeStream(this, offset, length));
    }

    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A forward-only view of one range of the file.</summary>
    private sealed class RangeStream(LocalFileArchiveSource source, long offset, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset1, int count) => Read(buffer.AsSpan(offset1, count));

        public override int Read(Span<byte> buffer)
        {
            var want = (int)Math.Min(buffer.Length, length - _position);
            if (want == 0)
            {
                return 0;
            }
            int read;
            try
            {
                read = RandomAccess.Read(source._handle, buffer[..want], offset + _position);
            }
            catch (IOException e)
            {
                throw RuntimeErrors.ArchiveUnreadable(source.Description, e.Message, e);
            }
            if (read == 0)
            {
                throw RuntimeErrors.Truncated(source.Description, offset, length, offset + _position);
            }
            _position += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset1, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset1, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset1, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset1, int count) => throw new NotSupportedException();
    }
}
