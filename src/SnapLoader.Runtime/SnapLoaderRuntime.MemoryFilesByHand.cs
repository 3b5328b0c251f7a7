using System.Collections.Concurrent;

namespace SnapLoader.Runtime;

// Memory files made by hand: the .NET form of the Python lambda-snaploader's create_memory_file, create_symlinks and
// get_file_descriptors.
public static partial class SnapLoaderRuntime
{
    private static readonly ConcurrentDictionary<string, MemoryFile> s_filesByHand = new(StringComparer.Ordinal);
    private static readonly HashSet<string> s_registeredPathsByHand = new(StringComparer.Ordinal); // guarded by s_gate

    /// <summary>The Python tool's <c>create_memory_file</c>: a sealed memory file with <paramref name="content"/>, kept by name.</summary>
    /// <example><code>var file = SnapLoaderRuntime.CreateMemoryFile("models/labels.txt", File.ReadAllBytes("labels.txt"));</code></example>
    /// <param name="name">The file's path relative to <see cref="BasePath"/>, by the rules of archive entry names.</param>
    /// <param name="content">The bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a relative path by the rules of entry names (SNAP1004's), or a memory file of that name exists.</exception>
    /// <exception cref="SnapLoaderException">The memory file could not be made or sealed (<see cref="RuntimeErrorCodes.MemfdCreateFailed"/>, <see cref="RuntimeErrorCodes.SealFailed"/>).</exception>
    public static MemoryFile CreateMemoryFile(string name, ReadOnlySpan<byte> content)
    {
        CheckNameByHand(name);
        var file = MemoryFile.FromBytes(name, content);
        AddFileByHand(name, file);
        return file;
    }

    /// <summary>The Python tool's <c>create_memory_file</c> for a stream of known length, copied in chunks (never whole in memory).</summary>
    /// <example><code>await using var s = File.OpenRead("big.onnx"); var file = await SnapLoaderRuntime.CreateMemoryFileAsync("models/big.onnx", s, s.Length);</code></example>
    /// <param name="name">The file's path relative to <see cref="BasePath"/>, by the rules of archive entry names.</param>
    /// <param name="content">The stream, read to its end.</param>
    /// <param name="length">How many bytes the stream holds.</param>
    /// <param name="cancellationToken">Cancels the copy; the memory file is closed then.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a relative path by the rules of entry names (SNAP1004's), or a memory file of that name exists.</exception>
    /// <exception cref="InvalidDataException">The stream held another number of bytes than <paramref name="length"/>.</exception>
    /// <exception cref="SnapLoaderException">The memory file could not be made, written or sealed (<see cref="RuntimeErrorCodes.MemfdCreateFailed"/>, <see cref="RuntimeErrorCodes.SealFailed"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MemoryFile> CreateMemoryFileAsync(string name, Stream content, long length, CancellationToken cancellationToken = default)
    {
        CheckNameByHand(name);
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
        AddFileByHand(name, file);
        return file;
    }

    /// <summary>
    /// The Python tool's <c>create_symlinks</c>: links every memory file made with <see cref="CreateMemoryFile"/> into
    /// <paramref name="targetDirectory"/>, and registers its path under <see cref="BasePath"/> with the shim when preloaded.
    /// </summary>
    /// <example><code>SnapLoaderRuntime.CreateSymlinks("/tmp/custom_libs");</code></example>
    /// <param name="targetDirectory">The folder of links; <see cref="ArchiveLoadOptions.DefaultTargetDirectory"/> by default.</param>
    /// <exception cref="ArgumentException"><paramref name="targetDirectory"/> is not an absolute path.</exception>
    /// <exception cref="SnapLoaderException">The folder or a link could not be made (<see cref="RuntimeErrorCodes.TargetDirectoryUnusable"/>), or the shim refused a path (<see cref="RuntimeErrorCodes.ShimRegistrationFailed"/>); then none of this call's paths stays registered.</exception>
    public static void CreateSymlinks(string targetDirectory = ArchiveLoadOptions.DefaultTargetDirectory)
    {
        AbsoluteFolder(targetDirectory, "target directory", nameof(targetDirectory));
        var files = s_filesByHand.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value)).ToList();
        SymlinkFarm.Create(targetDirectory, files);
        if (PreloadShim.IsPreloaded)
        {
            lock (s_gate)
            {
                RegisterFilesByHand(files);
            }
        }
    }

    /// <summary>Registers the original paths of the memory files made by hand: all of this call's new ones, or none. Called under <c>s_gate</c>.</summary>
    private static void RegisterFilesByHand(IReadOnlyList<(string RelativePath, MemoryFile File)> files)
    {
        var registered = new List<string>();
        try
        {
            foreach (var (relativePath, file) in files)
            {
                var path = Path.Combine(BasePath, relativePath);
                PreloadShim.Register(path, file);
                // A path an earlier call registered answers 0 again; it is not this call's to take back.
                if (s_registeredPathsByHand.Add(path))
                {
                    registered.Add(path);
                }
            }
        }
        catch
        {
            s_registeredPathsByHand.ExceptWith(registered);
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
            foreach (var (name, file) in s_filesByHand)
            {
                descriptors[name] = file.Fd;
            }
            return descriptors;
        }
    }

    // The name becomes a link under the target folder and a path under the base path: it must stay inside both.
    private static void CheckNameByHand(string name)
    {
        if (EntryNameRules.Problem(name) is { } problem)
        {
            throw new ArgumentException($"The memory file name '{name}' {problem}.", nameof(name));
        }
    }

    private static void AddFileByHand(string name, MemoryFile file)
    {
        if (!s_filesByHand.TryAdd(name, file))
        {
            file.Dispose();
            throw new ArgumentException($"A memory file named '{name}' already exists.", nameof(name));
        }
    }
}
