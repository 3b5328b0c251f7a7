using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// A multipart upload with parts sent in parallel, aborted on any failure or cancellation so that no
/// object appears under the key and no parts are left billed.
/// </summary>
/// <remarks>
/// Written by hand rather than with TransferUtility (whose 4.1.0 also sends an abort when cancelled)
/// to control the abort exactly: it goes out only once every part request has ended, since S3 keeps
/// (and bills) a part that completes after the abort; it has its own timeout, as the build's token is
/// already cancelled; and when it fails, the build error says how to clean up. A Complete that fails is
/// followed by a HeadObject, since S3 may have built the object and lost only the answer. The loop also
/// reports progress on the build's schedule and turns chunk encoding off per request for S3-compatible
/// servers (<see cref="S3ClientSettings.UseChunkEncoding"/>).
/// </remarks>
internal static class MultipartArchiveUpload
{
    private static readonly TimeSpan s_abortTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Uploads <paramref name="archivePath"/> in parts. Throws <see cref="OperationCanceledException"/>
    /// when cancelled, else a <see cref="MultipartUploadFailure"/> around what the SDK threw, after aborting.
    /// </summary>
    public static async Task RunAsync(
        IAmazonS3 client,
        S3ClientSettings settings,
        string archivePath,
        long length,
        string sha256,
        S3Location location,
        ArchiveUploadOptions options,
        Action<string> log,
        CancellationToken cancellationToken)
    {
        var partSize = options.PartSizeFor(length);
        var partCount = (int)((length + partSize - 1) / partSize);

        var initiate = new InitiateMultipartUploadRequest
        {
            BucketName = location.Bucket,
            Key = location.Key,
            ContentType = ArchiveUploader.ContentType,
        };
        initiate.Metadata[ArchiveUploader.Sha256MetadataName] = sha256;
        cancellationToken.ThrowIfCancellationRequested();
        // Not cancellable: an upload that S3 created but whose id never reached us could not be aborted.
        var uploadId = (await client.InitiateMultipartUploadAsync(initiate, CancellationToken.None).ConfigureAwait(false)).UploadId;
        log(string.Create(CultureInfo.InvariantCulture,
            $"Uploading {location.S3Uri} in {partCount} parts of {partSize / 1e6:0.#} MB, {options.MaxParallelParts} at a time (multipart upload {uploadId})."));

        var parts = new PartETag[partCount];
        using var progress = new UploadProgress(length, partCount, location.S3Uri, log, options.ProgressInterval);
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelParts, CancellationToken = cancellationToken };
            // Parallel.ForEachAsync cancels the other parts when one fails and returns only once every
            // started part request has ended, which the abort below relies on.
            await Parallel.ForEachAsync(Enumerable.Range(0, partCount), parallel, async (index, partToken) =>
            {
                var offset = index * partSize;
                var request = new UploadPartRequest
                {
                    BucketName = location.Bucket,
                    Key = location.Key,
                    UploadId = uploadId,
                    PartNumber = index + 1,
                    FilePath = archivePath,
                    FilePosition = offset,
                    PartSize = Math.Min(partSize, length - offset),
                    IsLastPart = index == partCount - 1,
                    UseChunkEncoding = settings.UseChunkEncoding,
                };
                request.StreamTransferProgress += (_, e) => progress.Report(index, e.TransferredBytes);
                var response = await client.UploadPartAsync(request, partToken).ConfigureAwait(false);
                parts[index] = new PartETag(index + 1, response.ETag);
            }).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception e)
        {
            progress.Dispose();
            // No CompleteMultipartUpload was sent, so S3 cannot have an object from this upload.
            var cleanup = await AbortAsync(client, location, uploadId, e, "nothing was written under the key", log).ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new MultipartUploadFailure(uploadId, "UploadPart", cleanup, e);
        }

        try
        {
            // Not cancellable: once the request is sent, only S3's answer tells whether the object
            // exists, and cancelling it would leave that unknown.
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = location.Bucket,
                Key = location.Key,
                UploadId = uploadId,
                PartETags = parts.ToList(),
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (state, finding) = await CompletedUploadCheck.RunAsync(client, location, length, sha256).ConfigureAwait(false);
            if (state == CompletedUploadCheck.State.Complete)
            {
                log($"CompleteMultipartUpload of multipart upload {uploadId} failed ({e.Message}), but {finding}: " +
                    "S3 completed the upload and only its answer was lost.");
                progress.Finish();
                return;
            }
            progress.Dispose();
            // Harmless if S3 did complete it after all (the abort then finds no upload), and needed if not.
            var cleanup = await AbortAsync(client, location, uploadId, e, finding, log).ConfigureAwait(false);
            throw new MultipartUploadFailure(uploadId, "CompleteMultipartUpload", cleanup, e);
        }
        progress.Finish();
    }

    /// <summary>
    /// Aborts the upload and returns what happened as sentences for the build error (also logged):
    /// <paramref name="keyState"/> says what is under the key, as far as the caller knows.
    /// </summary>
    private static async Task<string> AbortAsync(IAmazonS3 client, S3Location location, string uploadId, Exception cause, string keyState, Action<string> log)
    {
        var why = cause is OperationCanceledException ? "the build was cancelled" : "a request failed";
        string outcome;
        try
        {
            using var timeout = new CancellationTokenSource(s_abortTimeout);
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = location.Bucket,
                Key = location.Key,
                UploadId = uploadId,
            }, timeout.Token).ConfigureAwait(false);
            outcome = $"Aborted multipart upload {uploadId} of {location.S3Uri} because {why}; {keyState}.";
        }
        catch (Exception abortError)
        {
            outcome = $"Could not abort multipart upload {uploadId} of {location.S3Uri} ({abortError.Message}); {keyState}, " +
                "but its uploaded parts are kept (and billed) until a lifecycle rule with AbortIncompleteMultipartUpload " +
                $"removes them, or: aws s3api abort-multipart-upload --bucket {location.Bucket} --key {location.Key} --upload-id {uploadId}";
        }
        log(outcome);
        return outcome;
    }
}
