using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Finds the files of the deployment that are native code for another platform than the target RID: PE images
/// without .NET metadata (Windows DLLs), Mach-O files (macOS) and ELF files of another machine. None of them ever
/// loads on Lambda. Microsoft.ML.OnnxRuntime, for one, copies its Windows onnxruntime.dll (17 MB) into every
/// publish through its build props. The report lists them; SnapLoaderRemoveForeignBinaries leaves them out.
/// </summary>
public sealed class FindForeignBinaries : SnapLoaderTask
{
    /// <summary>The metadata that says what platform a foreign file is for, for example "Windows PE, x86-64".</summary>
    internal const string PlatformMetadata = "SnapLoaderPlatform";

    /// <summary>What stays in the deployment after the selection: ResolvedFileToPublish, with RelativePath.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>linux-x64 or linux-arm64.</summary>
    [Required]
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>
    /// The items of <see cref="Files"/> that are for another platform, ordered by path, with SnapLoaderRelativePath,
    /// SnapLoaderSize and SnapLoaderPlatform.
    /// </summary>
    [Output]
    public ITaskItem[] ForeignFiles { get; private set; } = [];

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var machine = ElfMachines.ForRuntimeIdentifier(RuntimeIdentifier)
            ?? throw new SnapLoaderBuildException(ErrorCodes.UnsupportedRuntimeIdentifier,
                $"SnapLoader supports the runtime identifiers of AWS Lambda, linux-x64 and linux-arm64, not '{RuntimeIdentifier}'.");

        var foreign = new List<ITaskItem>();
        foreach (var file in Files)
        {
            var fullPath = Path.GetFullPath(file.ItemSpec);
            if (!File.Exists(fullPath))
            {
                continue;   // the function's own assembly, before it is compiled
            }
            string? platform;
            try
            {
                platform = ForeignBinary.Describe(fullPath, machine);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SnapLoaderBuildException(ErrorCodes.SourceFileUnreadable,
                    $"Could not read '{file.ItemSpec}' of the publish set to tell whether it is native code for another platform: {e.Message}", file.ItemSpec, e);
            }
            if (platform is null)
            {
                continue;
            }
            // Taken out of ResolvedFileToPublish by Remove when SnapLoaderRemoveForeignBinaries asks: see MSBuildEscaping.
            var item = MSBuildEscaping.CopyForRemove(file);
            var relativePath = PublishPaths.Normalize(file.GetMetadata(MetadataNames.RelativePath) is { Length: > 0 } r ? r : Path.GetFileName(file.ItemSpec));
            MSBuildEscaping.SetLiteral(item, MetadataNames.MovedPath, relativePath);
            item.SetMetadata(MetadataNames.Size, new FileInfo(fullPath).Length.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata(PlatformMetadata, platform);
            foreign.Add(item);
        }
        ForeignFiles = foreign.OrderBy(i => i.GetMetadata(MetadataNames.MovedPath), StringComparer.Ordinal).ToArray();
    }
}
