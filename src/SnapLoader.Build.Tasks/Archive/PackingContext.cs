namespace SnapLoader.Build.Tasks.Archive;

/// <summary>What every packing job of one <see cref="ArchiveWriter.Write"/> call shares.</summary>
internal sealed class PackingContext
{
    public PackingContext(
        string destinationPath,
        string scratchFolder,
        ArchiveCompression compression,
        int level,
        ArchiveProgress progress,
        ArchiveWriterSettings settings)
    {
        DestinationPath = destinationPath;
        ScratchFolder = scratchFolder;
        Compression = compression;
        Level = level;
        Progress = progress;
        Settings = settings;
    }

    /// <summary>The archive's final path: what SNAP0010 names when any scratch or archive write fails.</summary>
    public string DestinationPath { get; }

    /// <summary>Folder beside the archive for compressed pieces; removed when writing ends.</summary>
    public string ScratchFolder { get; }

    public ArchiveCompression Compression { get; }

    /// <summary>The resolved level (never 0 for deflate and zstd).</summary>
    public int Level { get; }

    public ArchiveProgress Progress { get; }

    public ArchiveWriterSettings Settings { get; }

    /// <summary>Scratch file for piece <paramref name="piece"/> of entry <paramref name="entryIndex"/>.</summary>
    public string PartPath(int entryIndex, int piece) => Path.Combine(ScratchFolder, $"{entryIndex}.{piece}");

    /// <summary>Creates a scratch file; a failure is the archive's (SNAP0010), not the source's.</summary>
    public FileStream CreatePart(string path)
    {
        try
        {
            return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(DestinationPath, e.Message, e);
        }
    }
}
