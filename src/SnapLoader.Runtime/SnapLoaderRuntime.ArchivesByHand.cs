namespace SnapLoader.Runtime;

// Archives made by hand: the .NET form of the Python lambda-snaploader's load_libraries_from_s3 and
// stream_libraries_from_s3, with one options type for their parameters.
public static partial class SnapLoaderRuntime
{
    /// <summary>
    /// The Python tool's <c>load_libraries_from_s3</c> in one call: does what <see cref="StreamLibrariesFromS3Async"/>
    /// does, and hooks SnapStart (<see cref="RegisterSnapStartHook"/>). It also logs once when the preload shim is not in
    /// the process, as <see cref="SetupPreload"/> does.
    /// </summary>
    /// <example><code>await SnapLoaderRuntime.LoadLibrariesFromS3Async("my-bucket", "libs/torch.zip", new() { FileFilter = n => n.Contains(".so") });</code></example>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key of the ZIP.</param>
    /// <param name="options">Where the files belong and which to load; <see cref="ArchiveLoadOptions.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing of it stays registered then.</param>
    /// <exception cref="ArgumentException"><paramref name="bucket"/> or <paramref name="key"/> is empty, or a folder of <paramref name="options"/> is not absolute.</exception>
    /// <exception cref="SnapLoaderException">The archive could not be loaded: its <see cref="SnapLoaderException.Code"/> and message say why. Nothing of it stays registered.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task LoadLibrariesFromS3Async(string bucket, string key, ArchiveLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        WarnIfNotPreloaded();
        await StreamLibrariesFromS3Async(bucket, key, options, cancellationToken).ConfigureAwait(false);
        RegisterSnapStartHook();
    }

    /// <summary>
    /// The Python tool's <c>stream_libraries_from_s3</c>: streams the ZIP's entries (any standard ZIP: stored, deflate or
    /// zstd) into sealed memory files, registers their original paths under <see cref="ArchiveLoadOptions.BasePath"/>
    /// with the preload shim, links them in <see cref="ArchiveLoadOptions.TargetDirectory"/> and loads the native
    /// libraries, each after the ones it needs. Does not hook SnapStart.
    /// </summary>
    /// <example><code>await SnapLoaderRuntime.StreamLibrariesFromS3Async("my-bucket", "libs.zip", new() { TargetDirectory = "/tmp/custom_libs" });</code></example>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key of the ZIP.</param>
    /// <param name="options">Where the files belong and which to load; <see cref="ArchiveLoadOptions.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing of it stays registered then.</param>
    /// <exception cref="ArgumentException"><paramref name="bucket"/> or <paramref name="key"/> is empty, or a folder of <paramref name="options"/> is not absolute.</exception>
    /// <exception cref="SnapLoaderException">The archive could not be loaded: its <see cref="SnapLoaderException.Code"/> and message say why. Nothing of it stays registered.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task StreamLibrariesFromS3Async(string bucket, string key, ArchiveLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        options ??= ArchiveLoadOptions.Default;
        var basePath = options.ResolveBasePath();
        await using var source = S3ArchiveSource.Create(bucket, key, options.Region);
        await LoadByHandAsync(source, options, basePath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Does what <see cref="StreamLibrariesFromS3Async"/> does, from a ZIP file on disk (a local run, a test, an archive
    /// on a mounted file system).
    /// </summary>
    /// <example><code>await SnapLoaderRuntime.LoadLibrariesFromFileAsync("/mnt/libs.zip", new() { BasePath = "/opt/ml/model" });</code></example>
    /// <param name="archivePath">The ZIP file.</param>
    /// <param name="options">Where the files belong and which to load; <see cref="ArchiveLoadOptions.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing of it stays registered then.</param>
    /// <exception cref="ArgumentException"><paramref name="archivePath"/> is empty, or a folder of <paramref name="options"/> is not absolute.</exception>
    /// <exception cref="SnapLoaderException">The archive could not be read or loaded: its <see cref="SnapLoaderException.Code"/> and message say why. Nothing of it stays registered.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task LoadLibrariesFromFileAsync(string archivePath, ArchiveLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        options ??= ArchiveLoadOptions.Default;
        var basePath = options.ResolveBasePath();
        await using var source = LocalFileArchiveSource.Open(archivePath);
        await LoadByHandAsync(source, options, basePath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Where a moved file can be opened now, for APIs that take a path: its link in the folder of links. Takes the
    /// original absolute path or the path relative to the base path; <see langword="null"/> when the file did not move.
    /// </summary>
    /// <example><code>var model = SnapLoaderRuntime.GetPath("models/resnet18.onnx") ?? Path.Combine(AppContext.BaseDirectory, "models/resnet18.onnx");</code></example>
    /// <param name="path">The original path.</param>
    public static string? GetPath(string path)
    {
        lock (s_gate)
        {
            foreach (var archive in s_archives)
            {
                foreach (var (file, _) in archive.Files)
                {
                    if (path == file.RelativePath || path == archive.OriginalPath(file))
                    {
                        return archive.LinkPath(file);
                    }
                }
            }
        }
        return null;
    }

    private static async Task LoadByHandAsync(IArchiveSource source, ArchiveLoadOptions options, string basePath, CancellationToken cancellationToken)
    {
        var archive = await LoadDeadline.FromEnvironment()
            .RunAsync(source, token => LoadedArchive.LoadAsync(source, expected: null, options.FileFilter, basePath, options.TargetDirectory, LibraryLoading.AllNow, token), cancellationToken)
            .ConfigureAwait(false);
        lock (s_gate)
        {
            s_archives.Add(archive);
        }
    }
}
