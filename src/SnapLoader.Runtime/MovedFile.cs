namespace SnapLoader.Runtime;

/// <summary>
/// One file that SnapLoader.Build moved out of the deployment into the archive.
/// </summary>
public sealed class MovedFile
{
    /// <summary>Creates the description of a moved file.</summary>
    /// <param name="relativePath">
    /// Path relative to the task root, with forward slashes; also the archive entry name unless <paramref name="entry"/> names another.
    /// </param>
    /// <param name="size">Uncompressed size in bytes.</param>
    /// <param name="sha256">Lowercase hex SHA-256 of the uncompressed content.</param>
    /// <param name="kind">Whether the file is a native library or data.</param>
    /// <param name="soname">The library's ELF SONAME, or <see langword="null"/> when it has none or is not a library.</param>
    /// <param name="needs">
    /// The moved libraries this library needs (their relative paths), as the dynamic loader would find them in the
    /// original layout: its own folder and its RUNPATH first, then the task root's folders on LD_LIBRARY_PATH. They
    /// load before it. <see langword="null"/> or empty when it needs none of the moved libraries.
    /// </param>
    /// <param name="loadAtInit">Whether the library loads at init (so that it is in a SnapStart snapshot) rather than when first opened.</param>
    /// <param name="entry">
    /// The archive entry that holds the content, when it is not <paramref name="relativePath"/>: the build stores
    /// byte-identical files once, under the first one's path, and names that entry here for the others.
    /// <see langword="null"/> for the file's own entry.
    /// </param>
    /// <exception cref="ArgumentException">
    /// <paramref name="relativePath"/> or <paramref name="entry"/> breaks the rules of archive entry names (empty, absolute,
    /// a backslash, a '.', '..' or empty segment, a control character), or <paramref name="sha256"/> is not 64 lowercase hex digits.
    /// </exception>
    public MovedFile(string relativePath, long size, string sha256, MovedFileKind kind, string? soname = null,
        IReadOnlyList<string>? needs = null, bool loadAtInit = false, string? entry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        // The build packs the file under this path, by the same rules.
        if (EntryNameRules.Problem(relativePath) is { } pathProblem)
        {
            throw new ArgumentException($"The relative path '{relativePath}' {pathProblem}.", nameof(relativePath));
        }
        if (entry is not null && EntryNameRules.Problem(entry) is { } entryProblem)
        {
            throw new ArgumentException($"The entry '{entry}' of '{relativePath}' {entryProblem}.", nameof(entry));
        }
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException($"'{sha256}' is not a lowercase hex SHA-256.", nameof(sha256));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(size);

        RelativePath = relativePath;
        Size = size;
        Sha256 = sha256;
        Kind = kind;
        Soname = soname;
        Needs = needs ?? [];
        LoadAtInit = loadAtInit;
        Entry = entry ?? relativePath;
    }

    /// <summary>Path relative to the task root (forward slashes). It is also the file's entry name in the archive, unless <see cref="Entry"/> says otherwise.</summary>
    public string RelativePath { get; }

    /// <summary>
    /// The archive entry that holds the file's content: <see cref="RelativePath"/>, or, for a file the build found
    /// byte-identical to an earlier one, that file's entry. Every file of one entry shares one sealed memory file,
    /// whose SHA-256 must match each of their <see cref="Sha256"/>s.
    /// </summary>
    public string Entry { get; }

    /// <summary>Uncompressed size in bytes.</summary>
    public long Size { get; }

    /// <summary>Lowercase hex SHA-256 of the uncompressed content, compiled into the function at build time.</summary>
    public string Sha256 { get; }

    /// <summary>Whether the file is a native library or data.</summary>
    public MovedFileKind Kind { get; }

    /// <summary>The library's ELF SONAME; <see langword="null"/> for data or a library without one.</summary>
    public string? Soname { get; }

    /// <summary>
    /// The moved libraries this library needs (relative paths), resolved at build time as the dynamic loader would
    /// resolve them in the original layout; they load before it. Empty for data and for a library that needs none.
    /// </summary>
    public IReadOnlyList<string> Needs { get; }

    /// <summary>Whether the library loads at init (SnapLoaderLoadAtInit) rather than when something first opens it.</summary>
    public bool LoadAtInit { get; }

    /// <inheritdoc/>
    public override string ToString() => Entry == RelativePath
        ? $"{RelativePath} ({Size:N0} bytes, {Kind})"
        : $"{RelativePath} ({Size:N0} bytes, {Kind}, stored as {Entry})";
}
