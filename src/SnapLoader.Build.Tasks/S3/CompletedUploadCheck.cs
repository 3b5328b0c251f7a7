using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// After CompleteMultipartUpload failed, finds out with a HeadObject whether S3 built the object anyway.
/// </summary>
/// <remarks>
/// A Complete whose answer is lost (a dropped connection, a proxy timeout) may well have succeeded, and
/// the SDK's retry of it then fails with NoSuchUpload since the upload is gone: the error alone does not
/// say whether the object exists, so the uploader must not claim either before looking.
/// </remarks>
internal static class CompletedUploadCheck
{
    // The build's token may be cancelled already; the question still deserves an answer.
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>What HeadObject found under the key.</summary>
    public enum State
    {
        /// <summary>An object with the archive's size and SHA-256: the upload completed.</summary>
        Complete,

        /// <summary>No object: the upload did not complete.</summary>
        Absent,

        /// <summary>An object that is not this archive, or HeadObject failed too.</summary>
        Unknown,
    }

    /// <summary>The state, and a sentence that says what was found, for the log or the build error.</summary>
    public static async Task<(State State, string Finding)> RunAsync(IAmazonS3 client, S3Location location, long length, string sha256)
    {
        GetObjectMetadataResponse head;
        try
        {
            using var timeout = new CancellationTokenSource(s_timeout);
            head = await client.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = location.Bucket, Key = location.Key },
                timeout.Token).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return (State.Absent, $"HeadObject finds no object at {location.S3Uri}, so nothing was written under the key");
        }
        catch (Exception e)
        {
            return (State.Unknown,
                $"whether {location.S3Uri} was written is unknown, since HeadObject failed too ({e.Message}); " +
                $"check with aws s3api head-object --bucket {location.Bucket} --key {location.Key} (the next publish checks it as well)");
        }

        var storedSha256 = head.Metadata[ArchiveUploader.Sha256MetadataName];
        if (head.ContentLength == length && string.Equals(storedSha256, sha256, StringComparison.OrdinalIgnoreCase))
        {
            return (State.Complete, $"HeadObject finds {location.S3Uri} with the archive's size ({length} bytes) and SHA-256");
        }
        return (State.Unknown,
            $"HeadObject finds an object at {location.S3Uri} that is not this archive ({head.ContentLength} bytes, " +
            $"SHA-256 {(string.IsNullOrEmpty(storedSha256) ? "not recorded" : storedSha256)}; the archive has {length} bytes, SHA-256 {sha256})");
    }
}
