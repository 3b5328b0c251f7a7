using System.Diagnostics;

namespace SnapLoader.Runtime;

/// <summary>
/// Everything one archive put in place: its memory files, their original paths, the links of the farm, the folders
/// that stand in for moved ones, and the declared libraries. Building one is all or nothing: on failure every memory
/// file is closed again and every path registered with the shim is taken back.
/// </summary>
internal sealed class LoadedArchive
{
    private readonly List<string> _folders = [];

    private LoadedArchive(string basePath, string targetDirectory, IReadOnlyList<(MovedFile File, MemoryFile Memory)> files)
    {
        BasePath = basePath;
        TargetDirectory = targetDirectory;
        Files = files;
    }

    public string BasePath { get; }
    public string TargetDirectory { get; }
    public IReadOnlyList<(MovedFile File, MemoryFile Memory)> Files { get; }

    public string OriginalPath(MovedFile file) => Path.Combine(BasePath, file.RelativePath);
    public string LinkPath(MovedFile file) => Path.Combine(TargetDirectory, file.RelativePath);

    /// <summary>Streams, verifies, registers, links and declares (or loads) the libraries; returns only when all of it worked.</summary>
    public static async Task<LoadedArchive> LoadAsync(IArchiveSource source, IReadOnlyList<MovedFile>? expected, Func<string, bool>? filter,
        string basePath, string targetDirectory, LibraryLoading loading, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var statistics = new LoadStatistics();
        var loaded = await ArchiveLoader.LoadAsync(source, expected, filter, LoaderSettings.Default, statistics, cancellationToken).ConfigureAwait(false);
        LogStages(source, loaded, statistics, clock.Elapsed);

        // A user's own archive has no manifest: its entries stand for themselves (kind by name; the CRC was checked).
        var archive = new LoadedArchive(basePath, targetDirectory, loaded.Select(f => (f.Moved ?? Describe(f), f.File)).ToList());
        var registered = new List<string>();
        IReadOnlyList<MovedLibrary> libraries = [];
        try
        {
            clock.Restart();
            if (PreloadShim.IsPreloaded)
            {
                foreach (var (file, memory) in archive.Files)
                {
                    PreloadShim.Register(archive.OriginalPath(file), memory);
                    registered.Add(archive.OriginalPath(file));
                    // The shim's duplicate serves the runtime too: one descriptor per moved file against Lambda's 1,024.
                    if (!memory.IsBorrowed)
                    {
                        memory.UseBorrowedDescriptor(PreloadShim.Descriptor(archive.OriginalPath(file)));
                    }
                }
            }
            // The links name the descriptors the files are held by now.
            SymlinkFarm.Create(targetDirectory, archive.Files.Select(f => (f.File.RelativePath, f.Memory)));
            try
            {
                MovedFolders.Register(basePath, targetDirectory, archive.Files.Select(f => f.File.RelativePath), archive._folders);
            }
            finally
            {
                registered.AddRange(archive._folders);
            }
            LambdaLog.Info($"register: {archive.Files.Count} files under {basePath}", new Dictionary<string, object?>
            {
                ["shim"] = PreloadShim.IsPreloaded,
                ["links"] = targetDirectory,
                ["folders"] = archive._folders.Count,
                ["ms"] = clock.ElapsedMilliseconds,
            });

            clock.Restart();
            libraries = NativeLibraries.Declare(archive.Files
                .Where(f => f.File.Kind == MovedFileKind.NativeLibrary)
                .Select(f => new MovedLibrary(f.File, archive.OriginalPath(f.File), archive.LinkPath(f.File))));
            var now = libraries.Where(l => loading == LibraryLoading.AllNow || l.File.LoadAtInit).ToList();
            foreach (var library in now)
            {
                NativeLibraries.Load(library);
            }
            LambdaLog.Info($"load: {now.Count} native libraries at init, {libraries.Count - now.Count} when first opened", new Dictionary<string, object?> { ["ms"] = clock.ElapsedMilliseconds });
        }
        catch
        {
            // The shim would keep answering for files that did not load, and the links would point at descriptor
            // numbers it is about to close: both go, the links first, so the paths answer from the disk again, as
            // before the load, and no link ever names a number another file took.
            try
            {
                NativeLibraries.Forget(libraries);
                SymlinkFarm.Remove(targetDirectory, archive.Files.Select(f => f.File.RelativePath));
                PreloadShim.UnregisterAll(registered);
            }
            finally
            {
                // Whatever the cleanup met, the memory files go and the load's own error is the one that leaves.
                archive.Close();
            }
            throw;
        }
        return archive;
    }

    /// <summary>
    /// One line per stage of the streaming load. The stages overlap, so each gives its busy time summed over its
    /// threads (busyMs) beside the wall time of the whole load (ms): the stage closest to ms x cores is the bottleneck.
    /// </summary>
    private static void LogStages(IArchiveSource source, IReadOnlyList<LoadedFile> loaded, LoadStatistics statistics, TimeSpan wall)
    {
        var ms = (long)wall.TotalMilliseconds;
        // Per entry: identical files the build stored once share one memory file, fetched and verified once.
        var entries = loaded.DistinctBy(f => f.File).ToList();
        var compressed = entries.Count(f => f.Entry.Method != ZipFormat.MethodStored);
        var shared = loaded.Count - entries.Count;
        LambdaLog.Info($"download: {statistics.Ranges} ranged reads from {source.Description}", Fields(statistics.DownloadBytes, ms, statistics.DownloadBusy));
        LambdaLog.Info($"decode: {compressed} compressed and {entries.Count - compressed} stored files", Fields(statistics.DecodeBytes, ms, statistics.DecodeBusy));
        LambdaLog.Info($"verify: {entries.Count} files ({(loaded.Any(f => f.Moved is null) ? "CRC-32" : "SHA-256")})", Fields(statistics.VerifyBytes, ms, statistics.VerifyBusy));
        LambdaLog.Info($"write: {entries.Count} sealed memory files{(shared > 0 ? $" for {loaded.Count} files (identical files share one)" : "")}",
            Fields(entries.Sum(f => f.Size), ms, statistics.WriteBusy));

        static Dictionary<string, object?> Fields(long bytes, long ms, TimeSpan busy) => new()
        {
            ["bytes"] = bytes,
            ["ms"] = ms,
            ["busyMs"] = (long)busy.TotalMilliseconds,
        };
    }

    /// <summary>
    /// After a SnapStart restore: the memory files came back with the snapshot, the farm in /tmp may not have.
    /// Checks both and recreates the links; a memory file that changed fails loudly. A memory file shared by identical
    /// files is checked against each of them (they were verified to have its size).
    /// </summary>
    public void Restore()
    {
        foreach (var (file, memory) in Files)
        {
            var length = CurrentLength(memory);
            if (length != file.Size)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.RestoreFailed,
                    $"After restore, the memory file of '{file.RelativePath}' is {length:N0} bytes, not the {file.Size:N0} that were verified; the snapshot is unusable.");
            }
        }
        if (!SymlinkFarm.IsIntact(TargetDirectory, Files.Select(f => (f.File.RelativePath, f.Memory))))
        {
            SymlinkFarm.Create(TargetDirectory, Files.Select(f => (f.File.RelativePath, f.Memory)));
            // The shim holds the folders that stood in for moved ones open; new ones took their place. After
            // FreezeRegistrations the shim takes no change: the moved folders then still exist, but list nothing.
            try
            {
                PreloadShim.UnregisterAll(_folders);
                _folders.Clear();
                MovedFolders.Register(BasePath, TargetDirectory, Files.Select(f => f.File.RelativePath), _folders);
            }
            catch (SnapLoaderException e)
            {
                LambdaLog.Warn($"after restore, the folders that stand in for moved ones could not be registered again: {e.Message}");
            }
        }
    }

    // The descriptor's current size as the kernel sees it; -1 when the descriptor is gone.
    private static long CurrentLength(MemoryFile memory)
    {
        try
        {
            using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(memory.Fd, ownsHandle: false);
            return RandomAccess.GetLength(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return -1;
        }
    }

    private static MovedFile Describe(LoadedFile loaded) => new(
        loaded.RelativePath, loaded.Size, loaded.Sha256 ?? new string('0', 64),
        System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(loaded.RelativePath), @"\.so(\.\d+)*$") ? MovedFileKind.NativeLibrary : MovedFileKind.Data);

    /// <summary>Closes every memory file, each once however many files share it; for a failed load only (a registered file must stay open).</summary>
    public void Close()
    {
        foreach (var memory in Files.Select(f => f.Memory).Distinct())
        {
            memory.Dispose();
        }
    }
}
