namespace SnapLoader.Build.Tasks.Archive;

/// <summary>One file to put into the archive.</summary>
/// <param name="EntryName">
/// The name inside the archive: relative, forward slashes, no empty, <c>.</c> or <c>..</c> segments,
/// unique (case-sensitive) within one archive.
/// </param>
/// <param name="SourcePath">The file on disk whose bytes become the entry.</param>
public sealed record ArchiveInput(string EntryName, string SourcePath);
