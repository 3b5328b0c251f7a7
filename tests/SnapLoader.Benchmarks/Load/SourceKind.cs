namespace SnapLoader.Benchmarks.Load;

/// <summary>Where the methods read the archive from.</summary>
internal enum SourceKind
{
    /// <summary>The archive file on local disk (warm in the page cache after the warm-up round).</summary>
    Local,

    /// <summary>The archive as an object in s3rver on 127.0.0.1, read over HTTP with the AWS SDK.</summary>
    S3,
}

internal static class SourceKinds
{
    /// <summary>The bucket the parent uploads every archive to; the key is the archive's file name.</summary>
    public const string Bucket = "snaploader-benchmarks";

    public static string Label(this SourceKind source) => source == SourceKind.S3 ? "s3rver" : "local file";

    public static SourceKind Parse(string value) => Enum.Parse<SourceKind>(value, ignoreCase: true);
}
