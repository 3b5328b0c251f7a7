using Amazon.Runtime;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>How <see cref="ArchiveUploader"/> uploads; the defaults suit a build machine.</summary>
public sealed class ArchiveUploadOptions
{
    /// <summary>S3's smallest part, except the last one.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>S3's largest number of parts in one multipart upload.</summary>
    public const int MaximumPartCount = 10_000;

    /// <summary>The options <see cref="ArchiveUploader.UploadAsync(string, string, S3Location, Action{string}, CancellationToken)"/> uses.</summary>
    public static ArchiveUploadOptions Default { get; } = new();

    /// <summary>Archives of this size or more go up in parts; smaller ones in one PutObject. 16 MiB by default.</summary>
    public long MultipartThreshold { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// The size of each part, at least <see cref="MinimumPartSize"/>; raised when the archive would need
    /// more than <see cref="MaximumPartCount"/> parts. 8 MiB by default.
    /// </summary>
    public long PartSize { get; init; } = 8L * 1024 * 1024;

    /// <summary>How many parts are sent at once, 1 to 16. 4 by default.</summary>
    public int MaxParallelParts { get; init; } = 4;

    /// <summary>The longest time between two progress lines while an upload runs. 5 s by default.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Credentials to use instead of the profile or the SDK's default chain; null (the default) to
    /// resolve them from <see cref="S3Location.Profile"/> or the environment.
    /// </summary>
    public AWSCredentials? Credentials { get; init; }

    internal void Validate()
    {
        if (MultipartThreshold < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MultipartThreshold), MultipartThreshold, "Must be positive.");
        }
        if (PartSize < MinimumPartSize)
        {
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, $"S3 needs parts of at least {MinimumPartSize} bytes.");
        }
        if (MaxParallelParts is < 1 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxParallelParts), MaxParallelParts, "Must be 1 to 16.");
        }
        if (ProgressInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProgressInterval), ProgressInterval, "Must be positive.");
        }
    }

    /// <summary>The part size for an archive of <paramref name="length"/> bytes, within S3's part count.</summary>
    internal long PartSizeFor(long length)
    {
        var smallestThatFits = (length + MaximumPartCount - 1) / MaximumPartCount;
        return Math.Max(PartSize, smallestThatFits);
    }
}
