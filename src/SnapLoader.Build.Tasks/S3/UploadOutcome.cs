namespace SnapLoader.Build.Tasks.S3;

/// <summary>What <see cref="ArchiveUploader"/> did with an archive.</summary>
public enum UploadOutcome
{
    /// <summary>The archive was uploaded to the key.</summary>
    Uploaded,

    /// <summary>An object with the archive's size and SHA-256 was already at the key; nothing was uploaded.</summary>
    AlreadyPresent,
}
