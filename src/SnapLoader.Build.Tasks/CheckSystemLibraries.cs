using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Warns (SNAP0022) about each DT_NEEDED entry of an ELF file of the publish set, moved or staying, for the target
/// RID, that nothing on Lambda provides: no ELF file of the publish set by file name or SONAME (a moved file is in
/// the archive and served at its path), no library of Lambda's dotnet10 image (<see cref="LambdaImageLibraries"/>),
/// and none that <see cref="ProvidedLibraries"/> names. Such a library fails to load on Lambda; the build has read
/// its DT_NEEDED anyway, so it says so before the function is deployed.
/// </summary>
/// <remarks>
/// Files for another RID or another machine are not checked (they never load; the report lists them as foreign),
/// nor is the .NET runtime of a self-contained publish, whose optional libcoreclrtraceptprovider.so needs LTTng,
/// which coreclr does without.
/// </remarks>
public sealed class CheckSystemLibraries : SnapLoaderTask
{
    /// <summary>
    /// The whole publish set: the files that stay (ResolvedFileToPublish, with RelativePath) and the moved ones (with
    /// SnapLoaderRelativePath).
    /// </summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>SONAMEs that a layer (or anything else outside the deployment) provides: SnapLoaderProvidedLibraries.</summary>
    public string[] ProvidedLibraries { get; set; } = [];

    /// <summary>linux-x64 or linux-arm64.</summary>
    [Required]
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>
    /// One item per warning: the missing library's name as the ItemSpec, with SnapLoaderNeededBy (the publish-relative
    /// path of the library that needs it).
    /// </summary>
    [Output]
    public ITaskItem[] MissingLibraries { get; private set; } = [];

    /// <summary>The metadata of <see cref="MissingLibraries"/> that names the library that needs the missing one.</summary>
    internal const string NeededByMetadata = "SnapLoaderNeededBy";

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var machine = ElfMachines.ForRuntimeIdentifier(RuntimeIdentifier)
            ?? throw new SnapLoaderBuildException(ErrorCodes.UnsupportedRuntimeIdentifier,
                $"SnapLoader supports the runtime identifiers of AWS Lambda, linux-x64 and linux-arm64, not '{RuntimeIdentifier}'.");

        var libraries = ReadLibraries(machine);
        var provided = new HashSet<string>(LambdaImageLibraries.For(machine), StringComparer.Ordinal);
        provided.UnionWith(ProvidedLibraries.Select(name => name.Trim()).Where(name => name.Length > 0));
        foreach (var library in libraries)
        {
            provided.Add(Path.GetFileName(library.RelativePath));
            if (library.Facts.Soname is { Length: > 0 } soname)
            {
                provided.Add(soname);
            }
        }

        var missing = new List<ITaskItem>();
        foreach (var library in libraries.Where(l => !l.IsRuntimePack).OrderBy(l => l.RelativePath, StringComparer.Ordinal))
        {
            foreach (var needed in library.Facts.Needed.Distinct(StringComparer.Ordinal).Where(n => !provided.Contains(n)))
            {
                LogWarning(ErrorCodes.SystemLibraryMissing,
                    $"'{library.RelativePath}' needs '{needed}' (DT_NEEDED), which neither the deployment, the SnapLoader archive nor Lambda's dotnet10 runtime image (Amazon Linux 2023) provides, " +
                    $"so '{library.RelativePath}' will fail to load on Lambda. Add '{needed}' and what it needs to the function (a package's native asset, or a file with CopyToPublishDirectory), " +
                    "or, if a layer provides it, name it in SnapLoaderProvidedLibraries.",
                    library.FullPath);
                var item = MSBuildEscaping.NewItem(needed);
                MSBuildEscaping.SetLiteral(item, NeededByMetadata, library.RelativePath);
                missing.Add(item);
            }
        }
        MissingLibraries = missing.ToArray();
    }

    /// <summary>The readable ELF files of the publish set that load on the RID: its machine, outside other RIDs' folders.</summary>
    private List<Library> ReadLibraries(ushort machine)
    {
        var libraries = new List<Library>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            var fullPath = Path.GetFullPath(file.ItemSpec);
            var relativePath = RelativePathOf(file);
            if (!seen.Add(relativePath) || !File.Exists(fullPath) || !PublishPaths.AppliesToRuntime(relativePath, RuntimeIdentifier))
            {
                continue;
            }
            try
            {
                if (!ElfFile.IsElf(fullPath))
                {
                    continue;
                }
                var facts = ElfFile.Read(fullPath);
                if (facts.Machine == machine)
                {
                    libraries.Add(new Library(relativePath, fullPath, facts, SelectMovedFiles.IsRuntimePackFile(file)));
                }
            }
            catch (Exception e) when (e is SnapLoaderBuildException or IOException or UnauthorizedAccessException)
            {
                // A moved library that cannot be read fails with SNAP0020 on its own; one that stays is not SnapLoader's to judge.
                Log.LogMessage(MessageImportance.Low, $"SnapLoader did not check the DT_NEEDED entries of '{relativePath}': {e.Message}");
            }
        }
        return libraries;
    }

    private static string RelativePathOf(ITaskItem file) => PublishPaths.Normalize(
        file.GetMetadata(MetadataNames.MovedPath) is { Length: > 0 } moved ? moved
        : file.GetMetadata(MetadataNames.RelativePath) is { Length: > 0 } relative ? relative
        : Path.GetFileName(file.ItemSpec));

    private sealed record Library(string RelativePath, string FullPath, ElfFacts Facts, bool IsRuntimePack);
}
