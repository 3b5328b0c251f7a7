namespace SnapLoader.Benchmarks.Load;

/// <summary>Where the methods read the archive from.</summary>
internal enum SourceKind
{
    /// <summary>The archive as an object in s3rver on 127.0.0.1, read over HTTP with the AWS SDK.</summary>
    S3,

    /// <summary>The same object through <see cref="ThrottlingProxy"/>: each connection limited to S3's per-connection rate.</summary>
    S3Throttled,

    /// <summary>The archive file on local disk (warm in the page cache after the warm-up round).</summary>
    Local,
}

internal static class SourceKinds
{
    /// <summary>The bucket the parent uploads every archive to; the key is the archive's file name.</summary>
    public const string Bucket = "snaploader-benchmarks";

    /// <summary>What one S3 connection delivers, by AWS's own guidance (85-90 MB/s); the low end.</summary>
    public const double ThrottledBytesPerSecond = 85e6;

    public static bool IsS3(this SourceKind source) => source != SourceKind.Local;

    public static string Label(this SourceKind source) => source switch
    {
        SourceKind.S3 => "s3rver",
        SourceKind.S3Throttled => "s3rver, 85 MB/s per connection",
        _ => "local file",
    };

    public static SourceKind Parse(string value) => Enum.Parse<SourceKind>(value, ignoreCase: true);
}
