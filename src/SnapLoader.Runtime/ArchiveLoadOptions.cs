namespace SnapLoader.Runtime;

/// <summary>
/// How <see cref="SnapLoaderRuntime.LoadLibrariesFromS3Async"/>, <see cref="SnapLoaderRuntime.StreamLibrariesFromS3Async"/>
/// and <see cref="SnapLoaderRuntime.LoadLibrariesFromFileAsync"/> load an archive made by hand: one set of defaults for
/// all three. The archive SnapLoader.Build made is loaded by the generated bootstrap, which needs none of these.
/// </summary>
/// <example><code>
/// await SnapLoaderRuntime.LoadLibrariesFromS3Async("my-bucket", "libs/torch.zip", new ArchiveLoadOptions
/// {
///     BasePath = "/opt/ml/model",
///     FileFilter = name => name.Contains(".so", StringComparison.Ordinal),
/// });
/// </code></example>
public sealed class ArchiveLoadOptions
{
    /// <summary>
    /// The default folder of links, <c>/tmp/lib_so</c>, as the Python tool's <c>load_libraries_from_s3</c> has it: not
    /// <see cref="SnapLoaderRuntime.DefaultTargetDirectory"/>, so that an archive loaded by hand never shares its folder
    /// of links with the archive the bootstrap loads.
    /// </summary>
    public const string DefaultTargetDirectory = "/tmp/lib_so";

    /// <summary>The options every member uses when given none.</summary>
    public static ArchiveLoadOptions Default { get; } = new();

    /// <summary>
    /// Where the archive's files were, the root its entry names are relative to: an absolute folder. When
    /// <see langword="null"/> (the default), <see cref="SnapLoaderRuntime.BasePath"/> at the time of the call, which is
    /// <c>/var/task</c> on Lambda.
    /// </summary>
    public string? BasePath { get; init; }

    /// <summary>The folder of links to the memory files; <see cref="DefaultTargetDirectory"/> by default.</summary>
    public string TargetDirectory { get; init; } = DefaultTargetDirectory;

    /// <summary>Which entry names to load (the name is the entry's path in the archive); all when <see langword="null"/>.</summary>
    public Func<string, bool>? FileFilter { get; init; }

    /// <summary>
    /// The bucket's region for an archive in S3; when <see langword="null"/>, the function's own (<c>AWS_REGION</c>, else
    /// the AWS SDK's default chain). Ignored for a local file.
    /// </summary>
    public string? Region { get; init; }

    /// <summary>The base path these options resolve to now, once both folders are checked.</summary>
    /// <exception cref="ArgumentException"><see cref="BasePath"/> or <see cref="TargetDirectory"/> is not an absolute path.</exception>
    internal string ResolveBasePath()
    {
        SnapLoaderRuntime.AbsoluteFolder(TargetDirectory, "target directory", nameof(TargetDirectory));
        return SnapLoaderRuntime.AbsoluteFolder(BasePath ?? SnapLoaderRuntime.BasePath, "base path", nameof(BasePath));
    }
}
