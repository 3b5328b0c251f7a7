namespace SnapLoader.Runtime;

/// <summary>
/// One file the loader brought into a sealed memory file. Files of the manifest that name one archive entry (identical
/// files the build stored once) share that entry's <see cref="File"/>.
/// </summary>
internal sealed class LoadedFile : IDisposable
{
    public LoadedFile(ZipEntryRecord entry, MovedFile? moved, MemoryFile file, string? sha256)
    {
        Entry = entry;
        Moved = moved;
        File = file;
        Sha256 = sha256;
    }

    /// <summary>The publish-relative path: the manifest's, or the entry name for a user's own archive.</summary>
    public string RelativePath => Moved?.RelativePath ?? Entry.Name;

    /// <summary>The file's length.</summary>
    public long Size => Entry.Size;

    /// <summary>The archive entry it came from.</summary>
    public ZipEntryRecord Entry { get; }

    /// <summary>The manifest's record, or <see langword="null"/> for a user's own archive.</summary>
    public MovedFile? Moved { get; }

    /// <summary>The sealed memory file holding the content; shared with the other files of the same entry.</summary>
    public MemoryFile File { get; }

    /// <summary>The verified SHA-256 (lowercase hex) when there was a manifest; <see langword="null"/> otherwise (the CRC-32 was checked).</summary>
    public string? Sha256 { get; }

    /// <summary>Closes the memory file, for every file that shares it (closing it again does nothing).</summary>
    public void Dispose() => File.Dispose();

    public override string ToString() => $"{RelativePath} -> {File}";
}
