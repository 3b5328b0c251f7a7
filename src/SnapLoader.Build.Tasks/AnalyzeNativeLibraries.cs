using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Reads the ELF facts of the moved libraries, checks that each one is built for the target RID's machine, and
/// puts the moved files in load order: every library after the libraries it needs, then the data files.
/// </summary>
public sealed class AnalyzeNativeLibraries : SnapLoaderTask
{
    /// <summary>The moved files from <see cref="SelectMovedFiles"/>.</summary>
    [Required]
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>linux-x64 or linux-arm64.</summary>
    [Required]
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>The same items in load order, libraries with SnapLoaderSoname, SnapLoaderNeeded and SnapLoaderRunpath.</summary>
    [Output]
    public ITaskItem[] OrderedFiles { get; private set; } = [];

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var expectedMachine = ElfMachines.ForRuntimeIdentifier(RuntimeIdentifier)
            ?? throw new SnapLoaderBuildException(ErrorCodes.UnsupportedRuntimeIdentifier,
                $"SnapLoader supports the runtime identifiers of AWS Lambda, linux-x64 and linux-arm64, not '{RuntimeIdentifier}'.");

        var libraries = new List<(ITaskItem Item, ElfFacts Facts)>();
        var data = new List<ITaskItem>();
        foreach (var file in MovedFiles)
        {
            if (file.GetMetadata(MetadataNames.Kind) != MovedFileKinds.NativeLibrary)
            {
                data.Add(file);
                continue;
            }

            var facts = ElfFile.Read(file.ItemSpec);
            if (facts.Machine != expectedMachine)
            {
                LogError(ErrorCodes.MachineMismatch,
                    $"'{file.GetMetadata(MetadataNames.MovedPath)}' is built for {facts.MachineName}, but the function is published for {RuntimeIdentifier} ({ElfMachines.Name(expectedMachine)}). " +
                    "Reference the package's build for this architecture, set RuntimeIdentifier to match the library, or exclude it with SnapLoaderExclude.",
                    file.ItemSpec);
                continue;
            }

            var item = new TaskItem(file);
            item.SetMetadata(MetadataNames.Soname, facts.Soname ?? "");
            item.SetMetadata(MetadataNames.Needed, string.Join(";", facts.Needed));
            item.SetMetadata(MetadataNames.Runpath, string.Join(":", facts.Runpath));
            libraries.Add((item, facts));
        }
        if (Log.HasLoggedErrors)
        {
            return;
        }

        var order = LoadOrder.Sort(libraries, l => Path.GetFileName(l.Item.GetMetadata(MetadataNames.MovedPath)), l => l.Facts);
        foreach (var cycle in order.Cycles)
        {
            LogWarning(ErrorCodes.DependencyCycle,
                $"The moved libraries {string.Join(", ", cycle)} need each other in a cycle; they are loaded in this order, which breaks one of their needs. " +
                "This works when each one only needs the others' symbols lazily; if loading fails, exclude one of them with SnapLoaderExclude.");
        }

        OrderedFiles = order.Ordered.Select(l => l.Item)
            .Concat(data.OrderBy(d => d.GetMetadata(MetadataNames.MovedPath), StringComparer.Ordinal))
            .ToArray();
    }
}
