namespace SnapLoader.Runtime;

/// <summary>
/// A moved library as one load put it in place: where it was (the path the shim answers for), where its link is in
/// the folder of links, and the moved libraries it needs, which load before it.
/// </summary>
internal sealed class MovedLibrary(MovedFile file, string originalPath, string linkPath)
{
    public MovedFile File { get; } = file;
    public string OriginalPath { get; } = originalPath;
    public string LinkPath { get; } = linkPath;

    /// <summary>Filled once all libraries of the load exist; a need outside the load is not there and is left to the dynamic loader.</summary>
    public List<MovedLibrary> Needs { get; } = [];

    /// <summary>The names P/Invoke may ask this library by: its relative path, its file name and its SONAME.</summary>
    public IEnumerable<string> Names()
    {
        yield return File.RelativePath;
        yield return Path.GetFileName(File.RelativePath);
        if (File.Soname is { } soname)
        {
            yield return soname;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => File.RelativePath;
}
