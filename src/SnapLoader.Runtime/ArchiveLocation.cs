namespace SnapLoader.Runtime;

/// <summary>
/// Where the archive of moved files lives: an S3 object when the build had a bucket, and always a file
/// name under which the build also wrote it locally (for local runs and tests).
/// </summary>
public sealed class ArchiveLocation
{
    /// <summary>Creates an archive location.</summary>
    /// <param name="fileName">The archive's file name, derived from its SHA-256 (for example <c>3f…a1.zip</c>).</param>
    /// <param name="sha256">Lowercase hex SHA-256 of the whole archive.</param>
    /// <param name="length">Length of the archive in bytes.</param>
    /// <param name="bucket">The S3 bucket, or <see langword="null"/> when the build uploaded nothing.</param>
    /// <param name="key">The S3 key, or <see langword="null"/> when the build uploaded nothing.</param>
    /// <param name="region">The bucket's region if the build was told it; otherwise the function's own region applies.</param>
    public ArchiveLocation(string fileName, string sha256, long length, string? bucket = null, string? key = null, string? region = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        if ((bucket is null) != (key is null))
        {
            throw new ArgumentException("An S3 location needs both a bucket and a key.", bucket is null ? nameof(bucket) : nameof(key));
        }

        FileName = fileName;
        Sha256 = sha256;
        Length = length;
        Bucket = bucket;
        Key = key;
        Region = region;
    }

    /// <summary>The archive's file name, derived from its SHA-256.</summary>
    public string FileName { get; }

    /// <summary>Lowercase hex SHA-256 of the whole archive.</summary>
    public string Sha256 { get; }

    /// <summary>Length of the archive in bytes.</summary>
    public long Length { get; }

    /// <summary>The S3 bucket, or <see langword="null"/> when the archive was not uploaded.</summary>
    public string? Bucket { get; }

    /// <summary>The S3 key, or <see langword="null"/> when the archive was not uploaded.</summary>
    public string? Key { get; }

    /// <summary>The bucket's region, when the build named one.</summary>
    public string? Region { get; }

    /// <inheritdoc/>
    public override string ToString() => Bucket is null ? FileName : $"s3://{Bucket}/{Key}";
}
