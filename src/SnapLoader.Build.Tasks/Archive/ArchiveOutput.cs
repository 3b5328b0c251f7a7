using System.Security.Cryptography;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// The archive's temporary file, written strictly front to back: every header is written once, after
/// its entry's sizes are known, so the SHA-256 of the whole archive is computed while writing instead of
/// by reading the file again. Every failure is SNAP0010 naming the final archive path.
/// </summary>
internal sealed class ArchiveOutput : IDisposable
{
    private readonly FileStream _file;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly string _destinationPath;

    private ArchiveOutput(FileStream file, string destinationPath)
    {
        _file = file;
        _destinationPath = destinationPath;
    }

    /// <summary>Creates <paramref name="temporaryPath"/>, which must not exist yet.</summary>
    public static ArchiveOutput Create(string temporaryPath, string destinationPath)
    {
        try
        {
            return new ArchiveOutput(
                new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16),
                destinationPath);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(destinationPath, e.Message, e);
        }
    }

    /// <summary>Bytes written so far: the offset the next record starts at.</summary>
    public long Position { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _file.Write(bytes);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(_destinationPath, e.Message, e);
        }
        _sha256.AppendData(bytes);
        Position += bytes.Length;
    }

    /// <summary>
    /// Flushes everything to the disk (a rename after a crash must not expose a file of zeros) and
    /// returns the SHA-256 of all bytes written, lowercase hex.
    /// </summary>
    public string Complete()
    {
        try
        {
            _file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(_destinationPath, e.Message, e);
        }
        return Convert.ToHexString(_sha256.GetHashAndReset()).ToLowerInvariant();
    }

    public void Dispose()
    {
        _sha256.Dispose();
        try
        {
            _file.Dispose();
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            // Only reached when Complete was not (it flushed already): the write is failing anyway and the
            // temporary file is about to be deleted.
        }
    }
}
