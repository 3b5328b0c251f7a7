namespace SnapLoader.Build.Tasks;

/// <summary>Every code the build side reports. Each one has a row in README.md.</summary>
internal static class ErrorCodes
{
    // Selection and the publish set.
    public const string UnsupportedRuntimeIdentifier = "SNAP0001";
    public const string MachineMismatch = "SNAP0002";
    public const string NothingSelected = "SNAP0003";
    public const string DeploymentTooLarge = "SNAP0004";
    public const string BootstrapNotCompiled = "SNAP0005";
    public const string InvalidProperty = "SNAP0006";
    public const string IncludeIgnored = "SNAP0007";
    // Raised by the targets, which see the publish set: a class library without Amazon.Lambda.Core does not start.
    public const string LambdaCoreMissing = "SNAP0008";
    // Raised by AnalyzeNativeLibraries, which sees the moved libraries: a SnapLoaderLoadAtInit item that names none of them.
    public const string LoadAtInitUnmatched = "SNAP0009";

    // ELF analysis.
    public const string UnreadableElf = "SNAP0020";
    public const string DependencyCycle = "SNAP0021";
    // Raised by CheckSystemLibraries for moved and staying libraries alike: the library would not load on Lambda.
    public const string SystemLibraryMissing = "SNAP0022";

    // The archive.
    public const string ArchiveWriteFailed = "SNAP0010";
    public const string SourceFileUnreadable = "SNAP0011";
    public const string DuplicateEntryName = "SNAP0012";
    public const string DeploymentZipFailed = "SNAP0013";

    // S3.
    public const string BucketNotFound = "SNAP0030";
    public const string NoCredentials = "SNAP0031";
    public const string AccessDenied = "SNAP0032";
    public const string NoRegion = "SNAP0033";
    // The same code as NoRegion: the fix is the same setting, SnapLoaderRegion.
    public const string WrongRegion = "SNAP0033";
    public const string UploadFailed = "SNAP0034";
    public const string EndpointUnreachable = "SNAP0035";
    public const string ExistingObjectDiffers = "SNAP0036";

    // deps.json and the bootstrap.
    public const string DepsFileUnreadable = "SNAP0040";
    public const string BootstrapWriteFailed = "SNAP0041";
}
