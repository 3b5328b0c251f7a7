namespace SnapLoader.Build.Tasks.Archive;

/// <summary>An archive that is complete under its final name.</summary>
/// <param name="Path">Full path of the archive file.</param>
/// <param name="Sha256">SHA-256 of the whole archive file, lowercase hex.</param>
/// <param name="Length">Length of the archive file in bytes.</param>
/// <param name="Entries">
/// The entries in the order they were given (and stored): one per distinct content, named after the first input
/// that has it. An input whose bytes equal an earlier one's has no entry of its own; see <see cref="Duplicates"/>.
/// </param>
public sealed record PackedArchive(string Path, string Sha256, long Length, IReadOnlyList<ArchiveEntry> Entries)
{
    /// <summary>The inputs stored once under an earlier input's entry, in input order; empty when every input has its own.</summary>
    public IReadOnlyList<DuplicateInput> Duplicates { get; init; } = [];

    /// <summary>For every input name, the entry that holds its bytes: its own, or the one it duplicates.</summary>
    public IReadOnlyDictionary<string, ArchiveEntry> EntryOfEachInput()
    {
        var result = Entries.ToDictionary(e => e.EntryName, StringComparer.Ordinal);
        foreach (var duplicate in Duplicates)
        {
            result[duplicate.EntryName] = result[duplicate.StoredAs];
        }
        return result;
    }
}
