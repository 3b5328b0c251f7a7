namespace SnapLoader.Runtime;

/// <summary>
/// A folder laid out like the task root, whose files are symbolic links to <c>/proc/self/fd/N</c> of the memory
/// files. The dynamic loader gets a real directory from it, so <c>$ORIGIN</c> RUNPATHs resolve between moved
/// libraries, and tools that need a path get one.
/// </summary>
internal static class SymlinkFarm
{
    /// <summary>Creates (or recreates) the links of <paramref name="files"/> under <paramref name="root"/>.</summary>
    /// <exception cref="SnapLoaderException">The folder cannot be created, is not ours, or is a link someone planted.</exception>
    public static void Create(string root, IEnumerable<(string RelativePath, MemoryFile File)> files)
    {
        PrepareRoot(root);
        foreach (var (relativePath, file) in files)
        {
            var link = Path.Combine(root, relativePath);
            try
            {
                var parent = Path.GetDirectoryName(link)!;
                Directory.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                if (File.Exists(link) || Directory.Exists(link) || new FileInfo(link).LinkTarget is not null)
                {
                    File.Delete(link);
                }
                File.CreateSymbolicLink(link, file.ProcPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                    $"Could not create the link '{link}' to {file.ProcPath}: {e.Message}. The target folder must be writable (Lambda's /tmp is).", e);
            }
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

    // The folder lives in /tmp, which other code of the function can write to: never follow a link found there,
    // and keep the folder to the function's own user.
    private static void PrepareRoot(string root)
    {
        try
        {
            var info = new DirectoryInfo(root);
            if (info.LinkTarget is not null)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                    $"'{root}' is a symbolic link to '{info.LinkTarget}'; SnapLoader does not follow a link planted where its folder goes. Remove it or choose another target folder.");
            }
            if (!info.Exists)
            {
                Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            else
            {
                File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                $"Could not prepare the folder '{root}' for the links to the memory files: {e.Message}. It must be writable (Lambda's /tmp is).", e);
        }
    }
}
