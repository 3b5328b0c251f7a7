using System.Diagnostics;

namespace SnapLoader.Runtime;

/// <summary>
/// Brings the files that SnapLoader.Build moved out of a deployment back into sealed memory files at function init,
/// where native code and .NET find them at their original paths. The generated bootstrap calls <see cref="Start"/>;
/// the other members are the .NET form of the Python lambda-snaploader API, for archives made by hand.
/// </summary>
/// <remarks>
/// Environment variables, read at <see cref="Start"/>: <c>SNAPLOADER_ARCHIVE</c> (a local file or <c>s3://bucket/key</c>,
/// instead of the location compiled into the function), <c>SNAPLOADER_ARCHIVE_DIR</c> (a folder holding the archive
/// under its file name, for local runs), <c>SNAPLOADER_TARGET_DIR</c> (the folder of links, default
/// <c>/tmp/snaploader</c>), <c>SNAPLOADER_BASE_PATH</c> (the original root, default <c>LAMBDA_TASK_ROOT</c>, else the
/// application's folder), <c>SNAPLOADER_LOAD_TIMEOUT</c> (seconds the whole load may take, default 9, 125 for a SnapStart init; 0 for no limit),
/// <c>SNAPLOADER_ZSTD</c> (<c>system</c> or <c>managed</c>: which zstd decoder; by default the system's libzstd when it can be used).
/// </remarks>
public static partial class SnapLoaderRuntime
{
    /// <summary>The default folder of links to the memory files.</summary>
    public const string DefaultTargetDirectory = "/tmp/snaploader";

    private static readonly object s_gate = new();
    private static readonly List<LoadedArchive> s_archives = [];
    private static SnapLoaderManifest? s_manifest;
    private static string? s_basePath;
    private static bool s_hooksRegistered;
    private static int s_warnedNotPreloaded;

    /// <summary>The manifest handed over by the bootstrap, or <see langword="null"/> before <see cref="Start"/>.</summary>
    public static SnapLoaderManifest? Manifest => Volatile.Read(ref s_manifest);

    /// <summary>
    /// The root the moved files' relative paths are under: what <see cref="SetBasePath"/> set, else
    /// <c>SNAPLOADER_BASE_PATH</c>, else <c>LAMBDA_TASK_ROOT</c>, else the application's folder.
    /// </summary>
    public static string BasePath
    {
        get => s_basePath
            ?? NonEmpty(Environment.GetEnvironmentVariable("SNAPLOADER_BASE_PATH"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT"))
            ?? Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
    }

    /// <summary>Whether the preload shim is in this process (the exec wrapper puts it there at start).</summary>
    public static bool IsPreloaded => PreloadShim.IsPreloaded;

    /// <summary>
    /// The Python tool's <c>set_base_path</c>: sets <see cref="BasePath"/>, which <see cref="CreateSymlinks"/> registers
    /// memory files under and which the loads by hand use when their options name no base path.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.SetBasePath("/opt/ml/model");</code></example>
    /// <param name="path">An absolute folder.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not an absolute path.</exception>
    public static void SetBasePath(string path) => s_basePath = AbsoluteFolder(path, "base path", nameof(path));

    /// <summary>
    /// The Python tool's <c>setup_preload</c>, which sets <c>LD_PRELOAD</c>. A running process cannot take a preload
    /// any more, so in .NET the exec wrapper (<c>AWS_LAMBDA_EXEC_WRAPPER</c>) preloads the shim when the function's
    /// process starts, and this only reports whether it did (<see cref="IsPreloaded"/>), and logs once which
    /// environment variable to set when it did not.
    /// </summary>
    /// <example><code>if (!SnapLoaderRuntime.SetupPreload()) { /* native code will not see the original paths */ }</code></example>
    /// <returns>Whether the shim is preloaded.</returns>
    public static bool SetupPreload()
    {
        WarnIfNotPreloaded();
        return PreloadShim.IsPreloaded;
    }

    /// <summary>
    /// Loads the archive of <paramref name="manifest"/> into sealed memory files, verifies every file's SHA-256,
    /// registers the original paths, loads the native libraries in order and hooks SnapStart. The generated bootstrap
    /// calls this from its module initializer, before any of the function's own code runs.
    /// </summary>
    /// <param name="manifest">The manifest compiled into the function assembly.</param>
    /// <exception cref="SnapLoaderException">The archive could not be loaded; its <see cref="SnapLoaderException.Code"/>
    /// and message say which file, which location and what to check. Nothing of it stays registered.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Another manifest was started before: only the function project may
    /// reference SnapLoader.Build.</exception>
    public static void Start(SnapLoaderManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        lock (s_gate)
        {
            if (s_manifest is not null)
            {
                if (s_manifest.Archive.Sha256 == manifest.Archive.Sha256)
                {
                    return;
                }
                throw new InvalidOperationException(
                    $"SnapLoader was already started with archive {s_manifest.Archive}; a second assembly tried to start it with {manifest.Archive}. " +
                    "Reference SnapLoader.Build from the function project only.");
            }

            try
            {
                var clock = Stopwatch.StartNew();
                WarnIfNotPreloaded();
                var source = ArchiveSourceFor(manifest.Archive);
                LoadedArchive archive;
                try
                {
                    var (basePath, targetDirectory) = (BasePath, TargetDirectory());
                    archive = LoadDeadline.FromEnvironment()
                        .RunAsync(source, token => LoadedArchive.LoadAsync(source, manifest.Files, filter: null, basePath, targetDirectory, LibraryLoading.WhenOpened, token), CancellationToken.None)
                        .GetAwaiter().GetResult();
                }
                finally
                {
                    source.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                // The shim's table is not frozen here: the lambda-snaploader API may still register files of its own.
                RegisterSnapStartHook();
                s_archives.Add(archive);
                s_manifest = manifest;
                LambdaLog.Info($"ready: {manifest.Files.Count} files ({manifest.TotalSize:N0} bytes) from {manifest.Archive}", new Dictionary<string, object?> { ["ms"] = clock.ElapsedMilliseconds });
            }
            catch (SnapLoaderException e)
            {
                // The function's init fails with this exception; the line says why in the function's log, at Error level.
                LambdaLog.Error(e);
                throw;
            }
        }
    }

    /// <summary>
    /// Closes the preload shim's table: later registrations fail. Call it once every archive and memory file of the
    /// function is in place, so that nothing loaded later can take over an original path.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.FreezeRegistrations();</code></example>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.ShimRegistrationFailed"/> when the shim refuses.</exception>
    public static void FreezeRegistrations() => PreloadShim.Freeze();

    /// <summary>
    /// The Python tool's <c>register_snapstart_hook</c>: registers <see cref="BeforeSnapshotAsync"/> and
    /// <see cref="AfterRestoreAsync"/> with Amazon.Lambda.Core's SnapshotRestore, once per process; after a restore they
    /// check every memory file and recreate the links of every loaded archive (so it takes no folder, unlike the Python
    /// one). <see cref="Start"/> and <see cref="LoadLibrariesFromS3Async"/> call it. Must be called during init: Lambda
    /// ignores hooks registered later.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.RegisterSnapStartHook();</code></example>
    /// <returns>Whether SnapshotRestore took the hooks (false outside Lambda, or with Amazon.Lambda.Core before 2.5.0).</returns>
    public static bool RegisterSnapStartHook()
    {
        lock (s_gate)
        {
            if (!s_hooksRegistered)
            {
                s_hooksRegistered = SnapStartHooks.TryRegister(BeforeSnapshotAsync, AfterRestoreAsync);
            }
            return s_hooksRegistered;
        }
    }

    /// <summary>Runs what SnapLoader does before a snapshot; the SnapStart hook, public so a local run can drive it.</summary>
    public static ValueTask BeforeSnapshotAsync()
    {
        LambdaLog.Info("before snapshot: memory files stay open and are part of the snapshot");
        return ValueTask.CompletedTask;
    }

    /// <summary>Checks the memory files and recreates missing links after a restore; the SnapStart hook, public for local runs.</summary>
    /// <exception cref="SnapLoaderException">A memory file changed or was lost.</exception>
    public static ValueTask AfterRestoreAsync()
    {
        var clock = Stopwatch.StartNew();
        lock (s_gate)
        {
            foreach (var archive in s_archives)
            {
                archive.Restore();
            }
        }
        LambdaLog.Info("after restore: memory files verified, links in place", new Dictionary<string, object?> { ["ms"] = clock.ElapsedMilliseconds });
        return ValueTask.CompletedTask;
    }

    /// <summary>Where <see cref="Start"/> reads the archive of <paramref name="location"/>: the environment's choice first (see the class remarks).</summary>
    internal static IArchiveSource ArchiveSourceFor(ArchiveLocation location)
    {
        if (NonEmpty(Environment.GetEnvironmentVariable("SNAPLOADER_ARCHIVE")) is { } archive)
        {
            if (!S3Uri.TryParse(archive, out var bucket, out var key))
            {
                return LocalFileArchiveSource.Open(archive);
            }
            // The build's region is that of the build's bucket: another bucket is looked for in the function's region
            // (AWS_REGION), or S3 would be asked in a region where that bucket is not.
            var region = string.Equals(bucket, location.Bucket, StringComparison.Ordinal) ? location.Region : null;
            return S3ArchiveSource.Create(bucket, key, region);
        }
        if (NonEmpty(Environment.GetEnvironmentVariable("SNAPLOADER_ARCHIVE_DIR")) is { } folder)
        {
            return LocalFileArchiveSource.Open(Path.Combine(folder, location.FileName));
        }
        if (location.Bucket is { } s3Bucket && location.Key is { } s3Key)
        {
            return S3ArchiveSource.Create(s3Bucket, s3Key, location.Region);
        }
        throw new SnapLoaderException(RuntimeErrorCodes.ArchiveNotFound,
            $"The function was published without SnapLoaderBucket, so it does not know where the archive {location.FileName} is. " +
            "Set SNAPLOADER_ARCHIVE_DIR to the folder that holds it (the build wrote it to bin/.../snaploader/), SNAPLOADER_ARCHIVE to its path or s3:// address, or publish with SnapLoaderBucket.");
    }

    private static string TargetDirectory() => NonEmpty(Environment.GetEnvironmentVariable("SNAPLOADER_TARGET_DIR")) ?? DefaultTargetDirectory;

    private static void WarnIfNotPreloaded()
    {
        if (!PreloadShim.IsPreloaded && Interlocked.Exchange(ref s_warnedNotPreloaded, 1) == 0)
        {
            LambdaLog.Warn($"the preload shim is not loaded, so native code that opens a moved file by its original path will not find it; " +
                $"set {PreloadShim.ExecWrapperVariable}=/var/task/snaploader-exec-wrapper on the function. Libraries are still loaded and served to P/Invoke.");
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary><paramref name="path"/> without a trailing separator, when it is absolute.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or relative; the message calls it <paramref name="what"/>.</exception>
    internal static string AbsoluteFolder(string? path, string what, string paramName)
    {
        if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path))
        {
            throw new ArgumentException($"The {what} '{path}' must be an absolute path.", paramName);
        }
        return Path.TrimEndingDirectorySeparator(path);
    }
}
