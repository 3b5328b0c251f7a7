namespace SnapLoader.Runtime;

/// <summary>
/// What SnapLoader.Build moved out of a deployment: the archive and every file in it. The bootstrap that the
/// build compiles into the function assembly constructs one and hands it to <see cref="SnapLoaderRuntime.Start"/>.
/// </summary>
public sealed class SnapLoaderManifest
{
    /// <summary>Creates a manifest.</summary>
    /// <param name="archive">Where the archive lives.</param>
    /// <param name="runtimeIdentifier">The runtime identifier the files were built for (<c>linux-x64</c> or <c>linux-arm64</c>).</param>
    /// <param name="files">The moved files in load order: every native library after the libraries it needs, data files last.</param>
    /// <exception cref="ArgumentException">Two files share a relative path.</exception>
    public SnapLoaderManifest(ArchiveLocation archive, string runtimeIdentifier, IReadOnlyList<MovedFile> files)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentException.ThrowIfNullOrEmpty(runtimeIdentifier);
        ArgumentNullException.ThrowIfNull(files);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!seen.Add(file.RelativePath))
            {
                throw new ArgumentException($"'{file.RelativePath}' appears twice in the manifest.", nameof(files));
            }
        }

        Archive = archive;
        RuntimeIdentifier = runtimeIdentifier;
        Files = files;
    }

    /// <summary>Where the archive lives.</summary>
    public ArchiveLocation Archive { get; }

    /// <summary>The runtime identifier the files were built for.</summary>
    public string RuntimeIdentifier { get; }

    /// <summary>The moved files in load order: native libraries after their dependencies, then data files.</summary>
    public IReadOnlyList<MovedFile> Files { get; }

    /// <summary>Total uncompressed size of the moved files in bytes.</summary>
    public long TotalSize => Files.Sum(f => f.Size);
}
