namespace SnapLoader.Runtime;

/// <summary>The messages of <see cref="SnapLoaderException"/>, in one place so each code always says the same things.</summary>
internal static class RuntimeErrors
{
    public static SnapLoaderException ArchiveUnreadable(string archive, string reason, Exception? inner = null) =>
        new(RuntimeErrorCodes.ArchiveUnreadable, $"Cannot read the archive {archive}: {reason} Check that the file exists and is readable.", inner);

    public static SnapLoaderException Truncated(string archive, long offset, long length, long actualEnd) =>
        new(RuntimeErrorCodes.TruncatedArchive,
            $"The archive {archive} ends at byte {actualEnd:N0}, but bytes {offset:N0}..{offset + length:N0} were needed. " +
            "It is truncated (an interrupted upload or copy): compare its length with the one the build reported and upload it again.");

    public static SnapLoaderException NoEndRecord(string archive, long length) =>
        new(RuntimeErrorCodes.TruncatedArchive,
            $"The archive {archive} ({length:N0} bytes) has no ZIP end of central directory record in its last 64 KiB: it is truncated or not a ZIP. " +
            "Compare its length with the one the build reported and upload it again.");

    public static SnapLoaderException Corrupt(string archive, string what) =>
        new(RuntimeErrorCodes.CorruptDirectory, $"The archive {archive} is corrupt: {what}. It is not the archive the build wrote, or it was damaged; upload it again.");

    public static SnapLoaderException UnsafeName(string archive, string name, string why) =>
        new(RuntimeErrorCodes.UnsafeEntryName,
            $"The archive {archive} has an entry named '{Printable(name)}', which {why}, so the archive is refused. " +
            "Entry names must be relative paths with forward slashes, no '.', '..' or empty segments and no control characters, so that each stays inside the base path (zip-slip) and names one file.");

    public static SnapLoaderException Symlink(string archive, string name) =>
        new(RuntimeErrorCodes.SymlinkEntry,
            $"The archive {archive} has an entry '{Printable(name)}' that is a symbolic link; links are refused because they can point outside the base path. " +
            "Zip the files themselves (zip without --symlinks / -y).");

    public static SnapLoaderException TooLarge(string archive, string name, long declared, string declaredBy) =>
        new(RuntimeErrorCodes.EntryTooLarge,
            $"Entry '{Printable(name)}' of {archive} decodes to more than {declared:N0} bytes, the size {declaredBy} gives; loading stopped at the first excess byte. " +
            "The entry is corrupt or a decompression bomb.");

    public static SnapLoaderException ImpossibleSize(string archive, string name, long size, long compressedSize, ushort method, long ratio) =>
        new(RuntimeErrorCodes.EntryTooLarge,
            $"Entry '{Printable(name)}' of {archive} declares {size:N0} bytes from {compressedSize:N0} compressed bytes, more than method {method} can expand to (at most {ratio:N0}:1). " +
            "The directory record is corrupt or the entry is a decompression bomb; nothing was loaded.");

    public static SnapLoaderException Duplicate(string archive, string name) =>
        new(RuntimeErrorCodes.DuplicateEntry,
            $"The archive {archive} has the entry '{Printable(name.TrimEnd('/'))}' twice (or as both a file and a folder); the loader cannot know which one is meant, so the archive is refused. " +
            "Make the archive again from one folder (Python's zipfile in append mode, for one, adds a second entry instead of replacing the first).");

    public static SnapLoaderException TooSmall(string archive, string name, long declared, long actual, string declaredBy) =>
        new(RuntimeErrorCodes.EntryTooSmall,
            $"Entry '{Printable(name)}' of {archive} has {actual:N0} bytes, but {declaredBy} says {declared:N0}. The archive does not belong to this build, or it is corrupt.");

    public static SnapLoaderException HashMismatch(string archive, string name, string expected, string actual) =>
        new(RuntimeErrorCodes.HashMismatch,
            $"File '{name}' from {archive} has SHA-256 {actual}, but the function was built with {expected}. " +
            "The archive was replaced or damaged since the build: publish the function again, or restore the object the build uploaded. Nothing from the archive was loaded.");

    public static SnapLoaderException CrcMismatch(string archive, string name, uint expected, uint actual) =>
        new(RuntimeErrorCodes.CrcMismatch,
            $"Entry '{Printable(name)}' of {archive} has CRC-32 {actual:x8}, but its directory record says {expected:x8}: the entry is corrupt. Make the archive again.");

    public static SnapLoaderException Missing(string archive, string name) =>
        new(RuntimeErrorCodes.EntryMissing,
            $"File '{name}' is not in the archive {archive}. The archive belongs to another build, or the function points at the wrong object: publish again.");

    public static SnapLoaderException UnsupportedMethod(string archive, string name, int method) =>
        new(RuntimeErrorCodes.UnsupportedCompression,
            $"Entry '{Printable(name)}' of {archive} uses compression method {method}; SnapLoader reads {ZipFormat.MethodStored} (stored), {ZipFormat.MethodDeflate} (deflate) and {ZipFormat.MethodZstd} (zstd). " +
            "Make the archive with deflate (zip -r, Python zipfile with ZIP_DEFLATED) or with SnapLoader.Build.");

    /// <summary>Names can hold anything; an error message must stay one readable line.</summary>
    public static string Printable(string name)
    {
        var clean = new string(name.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length > 300 ? clean[..300] + "…" : clean;
    }
}
