namespace SnapLoader.Runtime;

/// <summary>
/// The entry point the generated bootstrap calls at function init.
/// </summary>
public static class SnapLoaderRuntime
{
    private static SnapLoaderManifest? s_manifest;

    /// <summary>The manifest handed over by the bootstrap, or <see langword="null"/> before <see cref="Start"/>.</summary>
    public static SnapLoaderManifest? Manifest => Volatile.Read(ref s_manifest);

    /// <summary>
    /// Takes the manifest of the files the build moved out of the deployment. The generated bootstrap calls this from
    /// its module initializer, before any of the function's own code runs.
    /// </summary>
    /// <param name="manifest">The manifest compiled into the function assembly.</param>
    /// <exception cref="InvalidOperationException">A different manifest was already started in this process: a process
    /// loads one function assembly, so two manifests mean two assemblies were published with SnapLoader.Build.</exception>
    public static void Start(SnapLoaderManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var previous = Interlocked.CompareExchange(ref s_manifest, manifest, null);
        if (previous is not null && previous.Archive.Sha256 != manifest.Archive.Sha256)
        {
            throw new InvalidOperationException(
                $"SnapLoader was already started with archive {previous.Archive}; a second assembly tried to start it with {manifest.Archive}. " +
                "Reference SnapLoader.Build from the function project only.");
        }

        // Loading the archive into memory files is the loader's job (issue #4); until it lands the runtime says
        // plainly that the moved files are not available, instead of letting the function fail later on a missing file.
        Console.Error.WriteLine(
            $"SnapLoader: {manifest.Files.Count} moved files ({manifest.TotalSize:N0} bytes) in {manifest.Archive}; " +
            "this version of SnapLoader.Runtime records the manifest but does not load it yet.");
    }
}
