using Microsoft.Build.Framework;
using SnapLoader.Build.Tasks.S3;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Uploads the archive to S3 under its content-derived key, unless an object with that key is already there.
/// </summary>
public sealed class UploadArchive : SnapLoaderTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The archive file.</summary>
    [Required]
    public string ArchivePath { get; set; } = "";

    /// <summary>The archive's SHA-256, stored with the object.</summary>
    [Required]
    public string ArchiveSha256 { get; set; } = "";

    /// <summary>The bucket.</summary>
    [Required]
    public string Bucket { get; set; } = "";

    /// <summary>The object key.</summary>
    [Required]
    public string Key { get; set; } = "";

    /// <summary>The bucket's region; empty for the SDK's usual lookup.</summary>
    public string Region { get; set; } = "";

    /// <summary>A profile of the shared AWS config files; empty for the default credential chain.</summary>
    public string Profile { get; set; } = "";

    /// <summary>An S3-compatible endpoint; empty for AWS_ENDPOINT_URL_S3 or AWS itself.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>True when this publish uploaded the archive, false when the object was already there.</summary>
    [Output]
    public bool Uploaded { get; private set; }

    /// <inheritdoc/>
    public void Cancel() => _cancel.Cancel();

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var location = new S3Location(Bucket, Key, NullIfEmpty(Region), NullIfEmpty(Profile), NullIfEmpty(ServiceUrl));
        var outcome = ArchiveUploader.UploadAsync(ArchivePath, ArchiveSha256, location, line => LogHigh($"SnapLoader: {line}"), _cancel.Token)
            .GetAwaiter().GetResult();
        Uploaded = outcome == UploadOutcome.Uploaded;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
