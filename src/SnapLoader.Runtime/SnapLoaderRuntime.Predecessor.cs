using System.Collections.Concurrent;

namespace SnapLoader.Runtime;

// The .NET form of the Python lambda-snaploader API, for archives and memory files made by hand.
public static partial class SnapLoaderRuntime
{
    private static readonly ConcurrentDictionary<string, MemoryFile> s_manualFiles = new(StringComparer.Ordinal);
    private static readonly HashSet<string> s_registeredManualPaths = new(StringComparer.Ordinal); // guarded by s_gate

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
            .RunAsync(source, token => LoadedArchive.LoadAsync(source, expected: null, fileFilter, Path.TrimEndingDirectorySeparator(basePath), targetDirectory, LibraryLoading.AllNow, token), cancellationToken)
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
}
