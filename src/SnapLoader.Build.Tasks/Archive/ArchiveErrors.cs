namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Turns I/O exceptions into the two errors a user can act on: the source cannot be read (SNAP0011,
/// names the source) or the archive cannot be written (SNAP0010, names the archive). The split is made
/// where the call is made, never guessed from the exception, because both sides throw IOException.
/// </summary>
internal static class ArchiveErrors
{
    /// <summary>True for the exceptions file system calls throw for a missing, locked or broken file.</summary>
    public static bool IsFileSystemFailure(Exception exception) =>
        exception is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException;

    public static SnapLoaderBuildException SourceUnreadable(string sourcePath, string entryName, string reason, Exception? inner = null) =>
        new(ErrorCodes.SourceFileUnreadable,
            $"Cannot read '{sourcePath}' for archive entry '{entryName}': {reason}",
            sourcePath,
            inner);

    public static SnapLoaderBuildException WriteFailed(string destinationPath, string reason, Exception? inner = null) =>
        new(ErrorCodes.ArchiveWriteFailed,
            $"Cannot write the archive '{destinationPath}': {reason}",
            destinationPath,
            inner);
}
