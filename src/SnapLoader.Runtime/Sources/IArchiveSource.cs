namespace SnapLoader.Runtime;

/// <summary>
/// Where the loader reads an archive from, by byte range: a local file or an S3 object. Every member may be called
/// concurrently.
/// </summary>
internal interface IArchiveSource : IAsyncDisposable
{
    /// <summary>The archive as a user would name it in an error: a path or <c>s3://bucket/key</c>.</summary>
    string Description { get; }

    /// <summary>The archive's length in bytes.</summary>
    /// <exception cref="SnapLoaderException">The archive cannot be found or read.</exception>
    ValueTask<long> GetLengthAsync(CancellationToken cancellationToken);

    /// <summary>Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="SnapLoaderException">The archive ends before the range does (<see cref="RuntimeErrorCodes.TruncatedArchive"/>) or cannot be read.</exception>
    ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Opens <paramref name="length"/> bytes at <paramref name="offset"/> as a stream, so a large range flows through a
    /// small buffer. The stream throws <see cref="SnapLoaderException"/> if it ends before <paramref name="length"/> bytes.
    /// </summary>
    Task<Stream> OpenRangeAsync(long offset, long length, CancellationToken cancellationToken);
}
