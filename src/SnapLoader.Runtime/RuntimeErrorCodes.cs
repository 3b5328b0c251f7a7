namespace SnapLoader.Runtime;

/// <summary>
/// The codes of <see cref="SnapLoaderException"/>. Each names one kind of failure so that logs and alarms can match on it;
/// the exception's message says which file, archive or object it concerns and what to check.
/// </summary>
public static class RuntimeErrorCodes
{
    /// <summary>
    /// The archive cannot be opened or read: the local file does not exist or is not readable, or a read failed.
    /// Check the path (or the environment variable that points to it) and its permissions.
    /// </summary>
    public const string ArchiveUnreadable = "SNAP1001";

    /// <summary>
    /// The archive's central directory is corrupt: a bad signature, counts that disagree, an offset or size outside the
    /// archive, a local header that disagrees with the directory. The object is not the ZIP the build wrote, or was damaged.
    /// </summary>
    public const string CorruptDirectory = "SNAP1002";

    /// <summary>
    /// The archive is shorter than its records say (no end of central directory record, or a read past the end): an
    /// interrupted upload or copy. Compare the object's length with the one the build reported.
    /// </summary>
    public const string TruncatedArchive = "SNAP1003";

    /// <summary>
    /// An entry's name breaks the rules the build packs by: it is absolute, contains a <c>..</c> or <c>.</c> segment, a
    /// backslash, an empty segment or a control character (NUL included), so it could escape the base path (zip-slip)
    /// or not mean one file. Such an archive is refused as a whole.
    /// </summary>
    public const string UnsafeEntryName = "SNAP1004";

    /// <summary>An entry is a symbolic link (Unix mode S_IFLNK in its external attributes). Links are refused as a whole archive.</summary>
    public const string SymlinkEntry = "SNAP1005";

    /// <summary>
    /// An entry decodes to more bytes than declared (by the central directory or by the manifest): a zip bomb or a
    /// corrupt entry. Loading stops as soon as the excess byte appears.
    /// </summary>
    public const string EntryTooLarge = "SNAP1006";

    /// <summary>An entry decodes to fewer bytes than declared, or its size differs from the manifest's.</summary>
    public const string EntryTooSmall = "SNAP1007";

    /// <summary>
    /// A file's SHA-256 differs from the one compiled into the function at build time: the S3 object was replaced or
    /// damaged. The message names the file, both hashes and the archive. Republish, or restore the object.
    /// </summary>
    public const string HashMismatch = "SNAP1008";

    /// <summary>A file the manifest lists is not in the archive: the archive belongs to another build.</summary>
    public const string EntryMissing = "SNAP1009";

    /// <summary>An entry uses a compression method the runtime cannot decode (only 0 stored, 8 deflate, 93 zstd), or is encrypted.</summary>
    public const string UnsupportedCompression = "SNAP1010";

    /// <summary>memfd_create failed (for example EMFILE: too many open files, or ENOMEM). The message gives the errno.</summary>
    public const string MemfdCreateFailed = "SNAP1011";

    /// <summary>Sizing, writing or sealing a memory file failed (ftruncate, pwrite, fcntl F_ADD_SEALS), or the seals read back differ.</summary>
    public const string SealFailed = "SNAP1012";

    /// <summary>The S3 bucket does not exist (NoSuchBucket). Check the bucket name, the region and the endpoint.</summary>
    public const string S3NoSuchBucket = "SNAP1013";

    /// <summary>The S3 object does not exist (NoSuchKey): the archive was not uploaded, or was deleted.</summary>
    public const string S3NoSuchKey = "SNAP1014";

    /// <summary>
    /// S3 refused access (AccessDenied). The function's role needs <c>s3:GetObject</c> on the object's ARN (the message
    /// gives it); without <c>s3:ListBucket</c> S3 also answers AccessDenied for a key that does not exist.
    /// </summary>
    public const string S3AccessDenied = "SNAP1015";

    /// <summary>No AWS credentials were found in the default chain (environment, profile, container or instance role).</summary>
    public const string S3NoCredentials = "SNAP1016";

    /// <summary>The S3 endpoint could not be reached (DNS, connection, timeout). Check AWS_ENDPOINT_URL_S3, the VPC and its endpoints.</summary>
    public const string S3Unreachable = "SNAP1017";

    /// <summary>Any other error S3 answered with; the message gives its code and status.</summary>
    public const string S3Failed = "SNAP1018";

    /// <summary>
    /// An entry's CRC-32 differs from the one in the central directory: the entry is corrupt. Checked only for an archive
    /// without a manifest; with one, the SHA-256 proves the content.
    /// </summary>
    public const string CrcMismatch = "SNAP1019";

    /// <summary>
    /// The archive's location is unknown: the function was published without SnapLoaderBucket and neither
    /// SNAPLOADER_ARCHIVE nor SNAPLOADER_ARCHIVE_DIR is set.
    /// </summary>
    public const string ArchiveNotFound = "SNAP1020";

    /// <summary>The preload shim refused a registration (the message gives the errno), or speaks another ABI version.</summary>
    public const string ShimRegistrationFailed = "SNAP1021";

    /// <summary>The folder of links (SNAPLOADER_TARGET_DIR, default /tmp/snaploader) cannot be used: not writable, or a planted symbolic link.</summary>
    public const string TargetDirectoryUnusable = "SNAP1022";

    /// <summary>The dynamic loader refused a moved library (a dependency missing from the deployment and the archive, or a wrong architecture).</summary>
    public const string LibraryLoadFailed = "SNAP1023";

    /// <summary>After a SnapStart restore a memory file is no longer the one that was verified.</summary>
    public const string RestoreFailed = "SNAP1024";

    /// <summary>
    /// A byte range of the archive could not be read from S3 after every retry (500, 503 SlowDown, a reset or stalled
    /// body); the message names the bucket, key, range and the last failure. S3 or the network failed for longer than
    /// the retries cover: retry the init, and check the function's route to S3.
    /// </summary>
    public const string S3RangeFailed = "SNAP1025";

    /// <summary>
    /// The load took longer than its deadline (SNAPLOADER_LOAD_TIMEOUT, by default 9 seconds, inside Lambda's 10 s
    /// init budget, or 125 inside SnapStart's 130); the message says how far it got. Raise the function's memory (more network and CPU), or the deadline.
    /// </summary>
    public const string LoadDeadlineExceeded = "SNAP1026";

    /// <summary>
    /// The bucket is in another region than the one asked (S3 answered PermanentRedirect or AuthorizationHeaderMalformed);
    /// the message names both when S3 says which. Set SnapLoaderRegion at build, or AWS_REGION for the function.
    /// </summary>
    public const string S3WrongRegion = "SNAP1027";

    /// <summary>
    /// The files to load do not fit the function's memory: their total size, checked before anything is allocated,
    /// is more than the memory the function may use (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, or the cgroup's limit) minus a
    /// reserve for the runtime; the message gives both numbers. Raise the function's memory.
    /// </summary>
    public const string NotEnoughMemory = "SNAP1028";

    /// <summary>Two entries of the archive have the same name: the loader cannot know which one is meant.</summary>
    public const string DuplicateEntry = "SNAP1029";

    /// <summary>
    /// The files to load need more file descriptors than RLIMIT_NOFILE allows: each memory file holds one, and one more
    /// for each path (and moved folder) the preload shim keeps a duplicate for; checked, with what the process holds
    /// already and a reserve, before anything is fetched. Lambda's limit of 1,024 cannot be raised: move fewer, larger
    /// files (pack small data files into one, or leave some in the deployment with SnapLoaderExclude).
    /// </summary>
    public const string TooManyDescriptors = "SNAP1030";
}
