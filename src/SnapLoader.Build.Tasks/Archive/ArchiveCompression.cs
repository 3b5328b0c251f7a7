namespace SnapLoader.Build.Tasks.Archive;

/// <summary>How the archive writer compresses each entry. The runtime reads all three.</summary>
public enum ArchiveCompression
{
    /// <summary>ZIP method 0: the bytes as they are. Fastest to pack; the largest download.</summary>
    Stored,

    /// <summary>ZIP method 8 (raw deflate): every ZIP tool reads it.</summary>
    Deflate,

    /// <summary>
    /// ZIP method 93 (Zstandard; frames carry their content size, and an entry over 32 MiB is several frames
    /// plus a seek table so that it decodes on several cores): smaller and about twice as fast to decode as
    /// deflate, but <c>unzip</c> and older Python can only list it.
    /// </summary>
    Zstd,
}
