using System.Globalization;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// Uploads the archive to S3 unless an object with its size and SHA-256 is already at the key. Every
/// failure is a <see cref="SnapLoaderBuildException"/> with a SNAP003x code, except cancellation, which
/// surfaces as <see cref="OperationCanceledException"/>. A failed or cancelled upload leaves no object
/// under the key.
/// </summary>
public static class ArchiveUploader
{
    /// <summary>The user metadata that holds the archive's SHA-256 (sent as <c>x-amz-meta-sha256</c>).</summary>
    public const string Sha256MetadataName = "sha256";

    /// <summary>The content type the archive is stored with.</summary>
    public const string ContentType = "application/zip";

    /// <summary>Uploads with <see cref="ArchiveUploadOptions.Default"/>.</summary>
    /// <param name="archivePath">The archive file.</param>
    /// <param name="sha256">The archive's SHA-256 as lowercase hex; stored as <c>x-amz-meta-sha256</c>.</param>
    /// <param name="location">The bucket, key and how to reach them.</param>
    /// <param name="log">Receives progress and outcome lines; called from one thread at a time.</param>
    /// <param name="cancellationToken">Cancels the upload; a started multipart upload is aborted.</param>
    public static Task<UploadOutcome> UploadAsync(string archivePath, string sha256, S3Location location, Action<string> log, CancellationToken cancellationToken) =>
        UploadAsync(archivePath, sha256, location, log, ArchiveUploadOptions.Default, cancellationToken);

    /// <summary>Uploads with the given options.</summary>
    /// <param name="archivePath">The archive file.</param>
    /// <param name="sha256">The archive's SHA-256 as lowercase hex; stored as <c>x-amz-meta-sha256</c>.</param>
    /// <param name="location">The bucket, key and how to reach them.</param>
    /// <param name="log">Receives progress and outcome lines; called from one thread at a time.</param>
    /// <param name="options">Part sizes, parallelism, progress interval, explicit credentials.</param>
    /// <param name="cancellationToken">Cancels the upload; a started multipart upload is aborted.</param>
    public static async Task<UploadOutcome> UploadAsync(
        string archivePath,
        string sha256,
        S3Location location,
        Action<string> log,
        ArchiveUploadOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentException.ThrowIfNullOrEmpty(location.Bucket, nameof(location));
        ArgumentException.ThrowIfNullOrEmpty(location.Key, nameof(location));
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        if (sha256 is not { Length: 64 } || !sha256.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("Expected the SHA-256 as 64 hex digits.", nameof(sha256));
        }
        sha256 = sha256.ToLowerInvariant();
        options.Validate();

        var archive = new FileInfo(archivePath);
        if (!archive.Exists)
        {
            throw new SnapLoaderBuildException(ErrorCodes.UploadFailed, $"The archive {archivePath} to upload to {location.S3Uri} does not exist.", archivePath);
        }
        var length = archive.Length;

        var settings = await S3ClientSettings.ResolveAsync(location, options, cancellationToken).ConfigureAwait(false);
        using var client = settings.CreateClient();
        var operation = "HeadObject";
        try
        {
            if (await FindExistingAsync(client, location, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                EnsureSameArchive(existing, archivePath, length, sha256, location);
                log($"{location.S3Uri} is already there with the same {Describe(existing)}: nothing uploaded.");
                return UploadOutcome.AlreadyPresent;
            }

            log(string.Create(CultureInfo.InvariantCulture,
                $"Uploading {archivePath} ({length / 1e6:0.0} MB) to {location.S3Uri}: endpoint {settings.EndpointDescription}, {settings.RegionDescription}, credentials from {settings.CredentialsSource}."));
            if (length < options.MultipartThreshold)
            {
                operation = "PutObject";
                await PutAsync(client, settings, archivePath, length, sha256, location, options, log, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                operation = "the multipart upload";
                await MultipartArchiveUpload.RunAsync(client, settings, archivePath, length, sha256, location, options, log, cancellationToken).ConfigureAwait(false);
            }
            return UploadOutcome.Uploaded;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw S3ErrorTranslator.Translate(e, operation, location, settings);
        }
    }

    private static async Task<GetObjectMetadataResponse?> FindExistingAsync(IAmazonS3 client, S3Location location, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = location.Bucket, Key = location.Key },
                cancellationToken).ConfigureAwait(false);
        }
        // A HEAD answer has no body, so a missing bucket looks like a missing key here; the upload
        // that follows then fails with NoSuchBucket, which names it.
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (AmazonS3Exception e) when (HeadErrorProbe.Applies(e))
        {
            throw await HeadErrorProbe.ExplainAsync(client, location, e, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void EnsureSameArchive(GetObjectMetadataResponse existing, string archivePath, long length, string sha256, S3Location location)
    {
        var existingSha256 = existing.Metadata[Sha256MetadataName];
        var sameLength = existing.ContentLength == length;
        var sameHash = string.IsNullOrEmpty(existingSha256) || string.Equals(existingSha256, sha256, StringComparison.OrdinalIgnoreCase);
        if (sameLength && sameHash)
        {
            return;
        }
        // The key is derived from the content's hash, so a different object there means something
        // else wrote it; overwriting could break the function versions that load it.
        throw new SnapLoaderBuildException(
            ErrorCodes.ExistingObjectDiffers,
            $"{location.S3Uri} already exists and is not this archive: it has {existing.ContentLength} bytes" +
            (string.IsNullOrEmpty(existingSha256) ? "" : $" and SHA-256 {existingSha256}") +
            $", the archive {archivePath} has {length} bytes and SHA-256 {sha256}. Nothing was uploaded. " +
            $"Delete the object (aws s3 rm {location.S3Uri}) if nothing uses it, or upload under another key.",
            archivePath);
    }

    private static string Describe(GetObjectMetadataResponse existing) =>
        string.IsNullOrEmpty(existing.Metadata[Sha256MetadataName])
            ? $"size ({existing.ContentLength} bytes; it has no sha256 metadata to compare)"
            : $"size and SHA-256 ({existing.ContentLength} bytes)";

    private static async Task PutAsync(
        IAmazonS3 client, S3ClientSettings settings, string archivePath, long length, string sha256, S3Location location,
        ArchiveUploadOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = location.Bucket,
            Key = location.Key,
            FilePath = archivePath,
            ContentType = ContentType,
            UseChunkEncoding = settings.UseChunkEncoding,
        };
        request.Metadata[Sha256MetadataName] = sha256;
        using var progress = new UploadProgress(length, 1, location.S3Uri, log, options.ProgressInterval);
        request.StreamTransferProgress += (_, e) => progress.Report(0, e.TransferredBytes);
        // S3 stores an object only once its whole body arrived, so a cancelled PUT leaves nothing.
        await client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        progress.Finish();
    }
}
