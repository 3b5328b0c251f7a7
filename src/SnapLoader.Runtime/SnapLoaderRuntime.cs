using System.Collections.Concurrent;
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
/// application's folder), <c>SNAPLOADER_LOAD_TIMEOUT</c> (seconds the whole load may take, default 9; 0 for no limit).
/// </remarks>
public static class SnapLoaderRuntime
{
    /// <summary>The default folder of links to the memory files.</summary>
    public const string DefaultTargetDirectory = "/tmp/snaploader";

    private static readonly object s_gate = new();
    private static readonly ConcurrentDictionary<string, MemoryFile> s_manualFiles = new(StringComparer.Ordinal);
    private static readonly HashSet<string> s_registeredManualPaths = new(StringComparer.Ordinal); // guarded by s_gate
    private static readonly List<LoadedArchive> s_archives = [];
    private static SnapLoaderManifest? s_manifest;
    private static string? s_basePath;
    private static bool s_hooksRegistered;
    private static int s_warnedNotPreloaded;

    /// <summary>The manifest handed over by the bootstrap, or <see langword="null"/> before <see cref="Start"/>.</summary>
    public static SnapLoaderManifest? Manifest => Volatile.Read(ref s_manifest);

    /// <summary>
    /// The root the moved files' relative paths are under: set by <see cref="SetBasePath"/>, else
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
    /// Loads the archive of <paramref name="manifest"/> into sealed memory files, verifies every file's SHA-256,
    /// registers the original paths, loads the native libraries in order and hooks SnapStart. The generated bootstrap
    /// calls this from its module initializer, before any of the function's own code runs.
    /// </summary>
    /// <param name="manifest">The manifest compiled into the function assembly.</param>
    /// <exception cref="SnapLoaderException">The archive could not be loaded; its <see cref="SnapLoaderException.Code"/>
    /// and message say which file, which location and what to check. Nothing of it stays registered.</exception>
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

            var clock = Stopwatch.StartNew();
            WarnIfNotPreloaded();
            var source = ArchiveSourceFor(manifest.Archive);
            LoadedArchive archive;
            try
            {
                var (basePath, targetDirectory) = (BasePath, TargetDirectory());
                archive = LoadDeadline.FromEnvironment()
                    .RunAsync(source, token => LoadedArchive.LoadAsync(source, manifest.Files, filter: null, basePath, targetDirectory, loadLibraries: true, token), CancellationToken.None)
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
    }

    /// <summary>
    /// The Python tool's <c>load_libraries_from_s3</c> in one call: streams every entry of a ZIP in S3 (any standard ZIP,
    /// deflate or stored) into sealed memory files, registers them under <paramref name="basePath"/>, links them in
    /// <paramref name="targetDirectory"/>, loads the libraries and hooks SnapStart.
    /// </summary>
    /// <example><code>await SnapLoaderRuntime.LoadLibrariesFromS3Async("my-bucket", "libs/torch.zip", fileFilter: n => n.Contains(".so"));</code></example>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key of the ZIP.</param>
    /// <param name="basePath">Where the files are expected to be; default <c>/var/task</c>.</param>
    /// <param name="targetDirectory">The folder of links; default <c>/tmp/lib_so</c>.</param>
    /// <param name="fileFilter">Which entry names to load; all when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing stays registered then.</param>
    public static async Task LoadLibrariesFromS3Async(string bucket, string key, string basePath = "/var/task", string targetDirectory = "/tmp/lib_so",
        Func<string, bool>? fileFilter = null, CancellationToken cancellationToken = default)
    {
        SetBasePath(basePath);
        SetupPreload();
        await StreamLibrariesFromS3Async(bucket, key, fileFilter, basePath, targetDirectory, cancellationToken).ConfigureAwait(false);
        RegisterSnapStartHook(targetDirectory);
    }

    /// <summary>
    /// The Python tool's <c>stream_libraries_from_s3</c>: streams the ZIP's entries into sealed memory files, registers
    /// and links them, and loads the native libraries in archive order. Does not hook SnapStart.
    /// </summary>
    /// <example><code>await SnapLoaderRuntime.StreamLibrariesFromS3Async("my-bucket", "libs.zip", n => n.EndsWith(".so"));</code></example>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key of the ZIP.</param>
    /// <param name="fileFilter">Which entry names to load; all when <see langword="null"/>.</param>
    /// <param name="basePath">Where the files are expected to be; default <c>/var/task</c>.</param>
    /// <param name="targetDirectory">The folder of links; default <c>/tmp/pytorch_so</c>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing stays registered then.</param>
    public static async Task StreamLibrariesFromS3Async(string bucket, string key, Func<string, bool>? fileFilter = null, string basePath = "/var/task",
        string targetDirectory = "/tmp/pytorch_so", CancellationToken cancellationToken = default)
    {
        await using var source = S3ArchiveSource.Create(bucket, key, region: null);
        await LoadFromSourceAsync(source, fileFilter, basePath, targetDirectory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Like <see cref="StreamLibrariesFromS3Async"/>, from a ZIP file on disk (local runs and tests).</summary>
    /// <example><code>await SnapLoaderRuntime.LoadLibrariesFromFileAsync("/mnt/libs.zip", basePath: "/opt/ml/model");</code></example>
    /// <param name="archivePath">The ZIP file.</param>
    /// <param name="fileFilter">Which entry names to load; all when <see langword="null"/>.</param>
    /// <param name="basePath">Where the files are expected to be; default <c>/var/task</c>.</param>
    /// <param name="targetDirectory">The folder of links; default <c>/tmp/lib_so</c>.</param>
    /// <param name="cancellationToken">Cancels the load; nothing stays registered then.</param>
    public static async Task LoadLibrariesFromFileAsync(string archivePath, Func<string, bool>? fileFilter = null, string basePath = "/var/task",
        string targetDirectory = "/tmp/lib_so", CancellationToken cancellationToken = default)
    {
        await using var source = LocalFileArchiveSource.Open(archivePath);
        await LoadFromSourceAsync(source, fileFilter, basePath, targetDirectory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The Python tool's <c>set_base_path</c>: the root that entry names are relative to.</summary>
    /// <example><code>SnapLoaderRuntime.SetBasePath("/opt/ml/model");</code></example>
    /// <param name="path">An absolute folder.</param>
    public static void SetBasePath(string path)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            throw new ArgumentException($"'{path}' must be an absolute path.", nameof(path));
        }
        s_basePath = Path.TrimEndingDirectorySeparator(path);
    }

    /// <summary>
    /// The Python tool's <c>setup_preload</c>. The shim can only be preloaded when the process starts, so this checks
    /// that it is, and says once which environment variable to set when it is not.
    /// </summary>
    /// <example><code>if (!SnapLoaderRuntime.SetupPreload()) { /* native code will not see the original paths */ }</code></example>
    /// <returns>Whether the shim is preloaded.</returns>
    public static bool SetupPreload()
    {
        WarnIfNotPreloaded();
        return PreloadShim.IsPreloaded;
    }

    /// <summary>
    /// The Python tool's <c>register_snapstart_hook</c>: after a SnapStart restore, checks the memory files and recreates
    /// the links. Must be called during init (Lambda ignores hooks registered later).
    /// </summary>
    /// <example><code>SnapLoaderRuntime.RegisterSnapStartHook();</code></example>
    /// <param name="targetDirectory">Kept for the Python API's shape; the links of every loaded archive are restored.</param>
    /// <returns>Whether Amazon.Lambda.Core's SnapshotRestore took the hooks (false outside Lambda or before 2.5.0).</returns>
    public static bool RegisterSnapStartHook(string? targetDirectory = null)
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

    /// <summary>
    /// Closes the preload shim's table: later registrations fail. Call it once every archive and memory file of the
    /// function is in place, so that nothing loaded later can take over an original path.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.FreezeRegistrations();</code></example>
    public static void FreezeRegistrations() => PreloadShim.Freeze();

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

    /// <summary>The Python tool's <c>create_memory_file</c>: a sealed memory file with <paramref name="content"/>, kept by name.</summary>
    /// <example><code>var file = SnapLoaderRuntime.CreateMemoryFile("models/labels.txt", File.ReadAllBytes("labels.txt"));</code></example>
    /// <param name="name">The file's path relative to <see cref="BasePath"/>.</param>
    /// <param name="content">The bytes.</param>
    public static MemoryFile CreateMemoryFile(string name, ReadOnlySpan<byte> content)
    {
        var file = MemoryFile.FromBytes(name, content);
        AddManualFile(name, file);
        return file;
    }

    /// <summary>The Python tool's <c>create_memory_file</c> for a stream of known length, copied in chunks (never whole in memory).</summary>
    /// <example><code>await using var s = File.OpenRead("big.onnx"); var file = await SnapLoaderRuntime.CreateMemoryFileAsync("models/big.onnx", s, s.Length);</code></example>
    /// <param name="name">The file's path relative to <see cref="BasePath"/>.</param>
    /// <param name="content">The stream, read to its end.</param>
    /// <param name="length">How many bytes the stream holds.</param>
    /// <param name="cancellationToken">Cancels the copy; the memory file is closed then.</param>
    /// <exception cref="InvalidDataException">The stream held another number of bytes than <paramref name="length"/>.</exception>
    public static async Task<MemoryFile> CreateMemoryFileAsync(string name, Stream content, long length, CancellationToken cancellationToken = default)
    {
        var file = MemoryFile.Create(name, length);
        try
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                long offset = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (offset + read > length)
                    {
                        throw new InvalidDataException($"The stream for '{name}' holds more than the {length:N0} bytes announced.");
                    }
                    file.Write(offset, buffer.AsSpan(0, read));
                    offset += read;
                }
                if (offset != length)
                {
                    throw new InvalidDataException($"The stream for '{name}' held {offset:N0} bytes, not the {length:N0} announced.");
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            file.Seal();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        AddManualFile(name, file);
        return file;
    }

    /// <summary>
    /// The Python tool's <c>create_symlinks</c>: links every memory file made with <see cref="CreateMemoryFile"/> into
    /// <paramref name="targetDirectory"/>, and registers its path under <see cref="BasePath"/> with the shim when preloaded.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.CreateSymlinks("/tmp/custom_libs");</code></example>
    /// <param name="targetDirectory">The folder of links.</param>
    public static void CreateSymlinks(string targetDirectory = "/tmp/pytorch_so")
    {
        var files = s_manualFiles.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value)).ToList();
        SymlinkFarm.Create(targetDirectory, files);
        if (PreloadShim.IsPreloaded)
        {
            lock (s_gate)
            {
                RegisterManualFiles(files);
            }
        }
    }

    /// <summary>Registers the manual files' original paths: all of this call's new ones, or none. Called under <c>s_gate</c>.</summary>
    private static void RegisterManualFiles(IReadOnlyList<(string RelativePath, MemoryFile File)> files)
    {
        var registered = new List<string>();
        try
        {
            foreach (var (relativePath, file) in files)
            {
                var path = Path.Combine(BasePath, relativePath);
                PreloadShim.Register(path, file);
                // A path an earlier call registered answers 0 again; it is not this call's to take back.
                if (s_registeredManualPaths.Add(path))
                {
                    registered.Add(path);
                }
            }
        }
        catch
        {
            s_registeredManualPaths.ExceptWith(registered);
            PreloadShim.UnregisterAll(registered);
            throw;
        }
    }

    /// <summary>The Python tool's <c>get_file_descriptors</c>: every memory file's descriptor by its relative path.</summary>
    /// <example><code>foreach (var (path, fd) in SnapLoaderRuntime.GetFileDescriptors()) Console.WriteLine($"{path}: {fd}");</code></example>
    public static IReadOnlyDictionary<string, int> GetFileDescriptors()
    {
        lock (s_gate)
        {
            // A later archive's file of the same path wins, as it does in the links.
            var descriptors = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (file, memory) in s_archives.SelectMany(a => a.Files))
            {
                descriptors[file.RelativePath] = memory.Fd;
            }
            foreach (var (name, file) in s_manualFiles)
            {
                descriptors[name] = file.Fd;
            }
            return descriptors;
        }
    }

    /// <summary>
    /// Where a moved file can be opened now, for APIs that take a path: its link in the target folder. Takes the
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

    private static async Task LoadFromSourceAsync(IArchiveSource source, Func<string, bool>? fileFilter, string basePath, string targetDirectory, CancellationToken cancellationToken)
    {
        var archive = await LoadDeadline.FromEnvironment()
            .RunAsync(source, token => LoadedArchive.LoadAsync(source, expected: null, fileFilter, Path.TrimEndingDirectorySeparator(basePath), targetDirectory, loadLibraries: true, token), cancellationToken)
            .ConfigureAwait(false);
        lock (s_gate)
        {
            s_archives.Add(archive);
        }
    }

    private static void AddManualFile(string name, MemoryFile file)
    {
        // The name becomes a link under the target folder and a path under the base path: it must stay inside both.
        var segments = name.Split('/');
        if (name.Length == 0 || name.StartsWith('/') || name.Contains('\\') || segments.Any(s => s is "" or "." or ".."))
        {
            file.Dispose();
            throw new ArgumentException($"'{name}' must be a relative path with forward slashes and no '.', '..' or empty parts.", nameof(name));
        }
        if (!s_manualFiles.TryAdd(name, file))
        {
            file.Dispose();
            throw new ArgumentException($"A memory file named '{name}' already exists.", nameof(name));
        }
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
}
