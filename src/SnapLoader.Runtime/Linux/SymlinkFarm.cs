using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>
/// A folder laid out like the task root, whose files are symbolic links to <c>/proc/self/fd/N</c> of the memory
/// files. The dynamic loader gets a real directory from it, so <c>$ORIGIN</c> RUNPATHs resolve between moved
/// libraries, and tools that need a path get one.
/// </summary>
internal static class SymlinkFarm
{
    private const uint OwnerOnly = 0x1C0; // 0700

    private static int s_temporaryNames;

    /// <summary>
    /// Runs between creating the folder and opening it: the window in which a racing process could swap a symbolic
    /// link in. Tests plant one here to prove it is refused; <see langword="null"/> otherwise.
    /// </summary>
    internal static Action<string>? AfterRootCreatedForTests { get; set; }

    /// <summary>Creates (or recreates) the links of <paramref name="files"/> under <paramref name="root"/>.</summary>
    /// <exception cref="SnapLoaderException">
    /// <see cref="RuntimeErrorCodes.TargetDirectoryUnusable"/>: the folder cannot be created (read-only, full), is not
    /// the function user's, or is a link someone planted.
    /// </exception>
    public static void Create(string root, IEnumerable<(string RelativePath, MemoryFile File)> files)
    {
        var rootFd = OpenRoot(root);
        try
        {
            foreach (var (relativePath, file) in files)
            {
                Link(root, rootFd, relativePath, file.ProcPath);
            }
        }
        finally
        {
            LibC.Close(rootFd);
        }
    }

    /// <summary>Deletes the links of a load that failed; what cannot be deleted is left for /tmp's own cleanup.</summary>
    public static void Remove(string root, IEnumerable<string> relativePaths)
    {
        foreach (var relativePath in relativePaths)
        {
            try
            {
                var link = new FileInfo(Path.Combine(root, relativePath));
                if (link.LinkTarget is not null)
                {
                    link.Delete();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: the load is failing already and its error is the one to report.
            }
        }
    }

    /// <summary>Whether every link exists and points to its memory file.</summary>
    public static bool IsIntact(string root, IEnumerable<(string RelativePath, MemoryFile File)> files) =>
        files.All(f => new FileInfo(Path.Combine(root, f.RelativePath)).LinkTarget == f.File.ProcPath);

    // The folder lives in /tmp, which other code of the function can write to. Checking the path and then creating
    // the folder would leave a window in which a link planted there is followed; instead the folder is created, then
    // opened without following a link, checked through that descriptor (a folder, the function user's, mode 0700),
    // and every link is made relative to the descriptor: whatever the path names later, the links land in this folder.
    private static int OpenRoot(string root)
    {
        var full = Path.GetFullPath(root);
        try
        {
            // The parents are the user's choice (SNAPLOADER_TARGET_DIR); only the folder itself is SnapLoader's to guard.
            Directory.CreateDirectory(Path.GetDirectoryName(full) ?? "/");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unusable(full, $"its parent folder cannot be created: {e.Message}", e);
        }
        if (LibC.MkdirAt(LibC.AT_FDCWD, full, OwnerOnly) != 0 && Marshal.GetLastPInvokeError() != LibC.EEXIST)
        {
            throw Unusable(full, $"it cannot be created: {LibC.LastError()}");
        }
        AfterRootCreatedForTests?.Invoke(full);

        var fd = LibC.OpenAt(LibC.AT_FDCWD, full, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // With O_DIRECTORY a link fails ENOTDIR rather than ELOOP; the message says which it was.
            if (errno == LibC.ELOOP || (errno == LibC.ENOTDIR && IsLink(full)))
            {
                throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                    $"'{full}' is a symbolic link{LinkTargetText(full)}; SnapLoader does not follow a link planted where its folder goes. Remove it or choose another target folder (SNAPLOADER_TARGET_DIR).");
            }
            throw Unusable(full, errno == LibC.ENOTDIR ? "something other than a folder is there" : $"it cannot be opened: {LibC.Describe(errno)}");
        }
        try
        {
            if (!LibC.TryGetOwnerAndMode(fd, out var uid, out var mode))
            {
                throw Unusable(full, $"its owner cannot be read: {LibC.LastError()}");
            }
            var self = LibC.GetEuid();
            if (uid != self)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                    $"'{full}' belongs to user {uid}, not to the function's user {self}: someone else made it, and could change the links in it. Remove it or choose another target folder (SNAPLOADER_TARGET_DIR).");
            }
            if ((mode & 0x1FF) != OwnerOnly && LibC.FChmod(fd, OwnerOnly) != 0)
            {
                throw Unusable(full, $"its mode cannot be set to 0700: {LibC.LastError()}");
            }
            return fd;
        }
        catch
        {
            LibC.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Makes <paramref name="relativePath"/> under the open folder a link to <paramref name="target"/>: its folders are
    /// created and opened one by one without following links, and the link is made under a temporary name and renamed
    /// over whatever was there, so a stale link is replaced in one step and a folder in the way is an error.
    /// </summary>
    private static void Link(string root, int rootFd, string relativePath, string target)
    {
        var link = Path.Combine(root, relativePath);
        // Every name was checked where it came from (the archive's directory, CreateMemoryFile); this keeps the link
        // inside the folder whatever a later caller passes.
        if (EntryNameRules.Problem(relativePath) is { } problem)
        {
            throw new ArgumentException($"The link name '{relativePath}' {problem}.", nameof(relativePath));
        }
        var segments = relativePath.Split('/');
        var opened = new List<int>();
        try
        {
            var folder = rootFd;
            foreach (var segment in segments[..^1])
            {
                if (LibC.MkdirAt(folder, segment, OwnerOnly) != 0 && Marshal.GetLastPInvokeError() != LibC.EEXIST)
                {
                    throw LinkFailed(link, target, $"creating its folder '{segment}' failed: {LibC.LastError()}");
                }
                var next = LibC.OpenAt(folder, segment, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
                if (next < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    throw LinkFailed(link, target, errno is LibC.ELOOP or LibC.ENOTDIR
                        ? $"'{segment}' on its way is not a folder but a link or a file, which is not followed"
                        : $"opening its folder '{segment}' failed: {LibC.Describe(errno)}");
                }
                opened.Add(next);
                folder = next;
            }

            var leaf = segments[^1];
            var temporary = $".snaploader-{Environment.ProcessId}-{Interlocked.Increment(ref s_temporaryNames)}";
            if (LibC.SymlinkAt(target, folder, temporary) != 0)
            {
                throw LinkFailed(link, target, LibC.LastError());
            }
            if (LibC.RenameAt(folder, temporary, folder, leaf) != 0)
            {
                var error = LibC.LastError();
                LibC.UnlinkAt(folder, temporary, 0);
                throw LinkFailed(link, target, $"{error} (a folder may be in the way)");
            }
        }
        finally
        {
            foreach (var fd in opened)
            {
                LibC.Close(fd);
            }
        }
    }

    private static SnapLoaderException Unusable(string root, string why, Exception? inner = null) =>
        new(RuntimeErrorCodes.TargetDirectoryUnusable,
            $"Could not prepare the folder '{root}' for the links to the memory files: {why}. It must be writable and have space left " +
            "(Lambda's /tmp is, up to the function's ephemeral storage); set SNAPLOADER_TARGET_DIR to another folder otherwise.", inner);

    private static SnapLoaderException LinkFailed(string link, string target, string why) =>
        new(RuntimeErrorCodes.TargetDirectoryUnusable,
            $"Could not create the link '{link}' to {target}: {why}. The target folder must be writable and have space left (Lambda's /tmp is).");

    private static bool IsLink(string path) => LinkTarget(path) is not null;

    private static string LinkTargetText(string path) => LinkTarget(path) is { } target ? $" to '{target}'" : "";

    // Only for the message: the descriptor, not this, decided that the path is not the folder.
    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
