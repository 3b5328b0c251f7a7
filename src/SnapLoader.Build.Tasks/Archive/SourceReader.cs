namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Reads one byte range of a source file with no buffering of its own (callers bring a pooled buffer)
/// and reports any failure, including a file that changed length since it was measured, as SNAP0011.
/// </summary>
internal sealed class SourceReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _sourcePath;
    private readonly string _entryName;
    private long _remaining;

    private SourceReader(FileStream stream, string sourcePath, string entryName, long length)
    {
        _stream = stream;
        _sourcePath = sourcePath;
        _entryName = entryName;
        _remaining = length;
    }

    /// <summary>Opens <paramref name="sourcePath"/> to read <paramref name="length"/> bytes from <paramref name="offset"/>.</summary>
    public static SourceReader Open(string sourcePath, string entryName, long offset, long length)
    {
        try
        {
            // bufferSize 0: reads go straight into the caller's 1 MiB buffer, no second copy.
            var stream = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            if (offset != 0)
            {
                stream.Seek(offset, SeekOrigin.Begin);
            }
            return new SourceReader(stream, sourcePath, entryName, length);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.SourceUnreadable(sourcePath, entryName, e.Message, e);
        }
    }

    /// <summary>Bytes of the range not read yet.</summary>
    public long Remaining => _remaining;

    /// <summary>
    /// Fills as much of <paramref name="buffer"/> as the range has left; returns 0 once it is all read.
    /// </summary>
    public int Read(Span<byte> buffer)
    {
        if (_remaining == 0)
        {
            return 0;
        }
        var want = (int)Math.Min(buffer.Length, _remaining);
        var total = 0;
        try
        {
            while (total < want)
            {
                var read = _stream.Read(buffer[total..want]);
                if (read == 0)
                {
                    throw ArchiveErrors.SourceUnreadable(_sourcePath, _entryName, "the file got shorter while it was being packed.");
                }
                total += read;
            }
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.SourceUnreadable(_sourcePath, _entryName, e.Message, e);
        }
        _remaining -= total;
        return total;
    }

    /// <summary>After the whole range of a whole file was read: fails if the file has grown meanwhile.</summary>
    public void EnsureAtEndOfFile()
    {
        Span<byte> probe = stackalloc byte[1];
        int read;
        try
        {
            read = _stream.Read(probe);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.SourceUnreadable(_sourcePath, _entryName, e.Message, e);
        }
        if (read != 0)
        {
            throw ArchiveErrors.SourceUnreadable(_sourcePath, _entryName, "the file grew while it was being packed.");
        }
    }

    public void Dispose() => _stream.Dispose();
}
