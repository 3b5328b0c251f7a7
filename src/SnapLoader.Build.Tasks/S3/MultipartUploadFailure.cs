namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// A failed multipart upload: the SDK's error as <see cref="Exception.InnerException"/>, and what the
/// cleanup found and did, which the build error has to tell (the user may have parts to remove by hand).
/// </summary>
internal sealed class MultipartUploadFailure : Exception
{
    /// <param name="uploadId">The multipart upload's id.</param>
    /// <param name="operation">The S3 API that failed: UploadPart or CompleteMultipartUpload.</param>
    /// <param name="cleanup">One or more sentences: what is under the key, and whether the upload was aborted.</param>
    /// <param name="cause">What failed.</param>
    public MultipartUploadFailure(string uploadId, string operation, string cleanup, Exception cause)
        : base($"{operation} of multipart upload {uploadId} failed: {cause.Message} {cleanup}", cause)
    {
        UploadId = uploadId;
        Operation = operation;
        Cleanup = cleanup;
    }

    /// <summary>The multipart upload's id.</summary>
    public string UploadId { get; }

    /// <summary>The S3 API that failed: UploadPart or CompleteMultipartUpload.</summary>
    public string Operation { get; }

    /// <summary>What is under the key and whether the upload was aborted, as sentences for the build error.</summary>
    public string Cleanup { get; }
}
