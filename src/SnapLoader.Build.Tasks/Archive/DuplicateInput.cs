namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// An input whose bytes are those of an earlier input: the archive has no entry of its name, and its content is
/// the entry <paramref name="StoredAs"/> (the first input, in input order, with the same size and SHA-256).
/// </summary>
/// <param name="EntryName">The input's own name, which the archive does not hold.</param>
/// <param name="StoredAs">The name of the entry that holds its bytes.</param>
public sealed record DuplicateInput(string EntryName, string StoredAs);
