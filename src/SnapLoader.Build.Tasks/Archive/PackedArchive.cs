namespace SnapLoader.Build.Tasks.Archive;

/// <summary>An archive that is complete under its final name.</summary>
/// <param name="Path">Full path of the archive file.</param>
/// <param name="Sha256">SHA-256 of the whole archive file, lowercase hex.</param>
/// <param name="Length">Length of the archive file in bytes.</param>
/// <param name="Entries">The entries in the order they were given (and stored).</param>
public sealed record PackedArchive(string Path, string Sha256, long Length, IReadOnlyList<ArchiveEntry> Entries);
