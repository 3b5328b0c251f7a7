namespace SnapLoader.Runtime;

/// <summary>
/// Folders whose files all moved: gone from the deployment, yet code checks them before it loads from them
/// (Whisper.net looks for runtimes/linux-x64 with Directory.Exists). The shim answers stat, access, open and opendir
/// of each with its counterpart in the folder of links, which lists the moved files by their names.
/// </summary>
internal static class MovedFolders
{
    /// <summary>
    /// Registers, for each folder of <paramref name="relativePaths"/> (and their parents) that is not on disk under
    /// <paramref name="basePath"/>, its counterpart under <paramref name="targetDirectory"/>, adding each original path
    /// to <paramref name="registered"/> as soon as it is registered, so that a rollback after a failure part way takes
    /// back exactly those. Does nothing without the shim.
    /// </summary>
    /// <exception cref="SnapLoaderException">A counterpart folder cannot be opened, or the shim refused a folder.</exception>
    public static void Register(string basePath, string targetDirectory, IEnumerable<string> relativePaths, List<string> registered)
    {
        if (!PreloadShim.IsPreloaded)
        {
            return;
        }
        var folders = relativePaths.SelectMany(Parents).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var original = Path.Combine(basePath, folder);
            if (Directory.Exists(original))
            {
                continue;
            }
            var counterpart = Path.Combine(targetDirectory, folder);
            var fd = LibC.OpenAt(LibC.AT_FDCWD, counterpart, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (fd < 0)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.TargetDirectoryUnusable,
                    $"Cannot open '{counterpart}', which stands in for the moved folder '{original}': {LibC.LastError()}. Check the folder of links (SNAPLOADER_TARGET_DIR).");
            }
            try
            {
                PreloadShim.RegisterDirectory(original, fd);
                registered.Add(original);
            }
            finally
            {
                LibC.Close(fd);
            }
        }
    }

    // "a/b/c.so" has the folders "a" and "a/b"; a file at the root has none.
    private static IEnumerable<string> Parents(string relativePath)
    {
        for (var slash = relativePath.IndexOf('/'); slash > 0; slash = relativePath.IndexOf('/', slash + 1))
        {
            yield return relativePath[..slash];
        }
    }
}
