using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Removes the moved files, and the files SnapLoader left out of the deployment, from the published deps.json. The
/// host tolerates a listed native asset that is missing only while no probe path is configured (DOTNET_SHARED_STORE
/// or DOTNET_ADDITIONAL_DEPS make it a startup failure), and never a missing managed assembly, so the published file
/// must not list them.
/// </summary>
public sealed class RewriteDepsFile : SnapLoaderTask
{
    // A moved file is never managed (SelectMovedFiles keeps PE files), so only a left-out file matches runtime or resources.
    private static readonly string[] s_assetGroups = ["runtime", "native", "runtimeTargets", "resources"];

    // Indented like the SDK writes it, and without escaping '+' and other characters the SDK leaves as they are.
    private static readonly JsonSerializerOptions s_writeOptions = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The published deps.json, rewritten in place.</summary>
    [Required]
    public string DepsFile { get; set; } = "";

    /// <summary>The moved files, with the SDK's NuGetPackageId, NuGetPackageVersion and PathInPackage metadata.</summary>
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>
    /// Files left out of the deployment, with the same metadata: native files for other platforms
    /// (SnapLoaderRemoveForeignBinaries), and SnapLoader.Runtime with its dependencies when nothing moved.
    /// </summary>
    public ITaskItem[] RemovedFiles { get; set; } = [];

    /// <summary>How many asset entries were removed.</summary>
    [Output]
    public int RemovedCount { get; private set; }

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var removedFiles = MovedFiles.Concat(RemovedFiles).ToArray();
        if (removedFiles.Length == 0)
        {
            return;
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(DepsFile), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new SnapLoaderBuildException(ErrorCodes.DepsFileUnreadable, $"Could not read '{DepsFile}' to remove the moved and left-out files from it: {e.Message}", DepsFile, e);
        }
        if (root?["targets"] is not JsonObject targets)
        {
            throw new SnapLoaderBuildException(ErrorCodes.DepsFileUnreadable, $"'{DepsFile}' has no \"targets\" object; it is not a deps.json file the .NET host reads.", DepsFile);
        }

        var removed = 0;
        foreach (var (_, libraries) in targets)
        {
            foreach (var (libraryName, library) in (libraries as JsonObject) ?? [])
            {
                if (library is JsonObject assets)
                {
                    removed += RemoveAssets(libraryName, assets, removedFiles);
                }
            }
        }
        RemovedCount = removed;
        if (removed == 0)
        {
            return;
        }

        try
        {
            // Another publish of the project may rewrite the same file at the same time.
            AtomicFile.WriteAllText(DepsFile, root.ToJsonString(s_writeOptions));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapLoaderBuildException(ErrorCodes.DepsFileUnreadable, $"Could not rewrite '{DepsFile}': {e.Message}", DepsFile, e);
        }
    }

    private static int RemoveAssets(string libraryName, JsonObject library, ITaskItem[] removedFiles)
    {
        var removed = 0;
        foreach (var group in s_assetGroups)
        {
            if (library[group] is not JsonObject assets)
            {
                continue;
            }
            foreach (var assetPath in assets.Select(a => a.Key).ToList())
            {
                if (removedFiles.Any(file => IsSameAsset(file, libraryName, assetPath)))
                {
                    assets.Remove(assetPath);
                    removed++;
                }
            }
            if (assets.Count == 0)
            {
                library.Remove(group);
            }
        }
        return removed;
    }

    // A package asset is listed under "<id>/<version>" by its path in the package, whether the publish flattened it
    // to the root (with a RID) or kept it under runtimes/ (without one).
    private static bool IsSameAsset(ITaskItem file, string libraryName, string assetPath)
    {
        var packageId = file.GetMetadata(MetadataNames.NuGetPackageId);
        if (packageId.Length > 0)
        {
            var version = file.GetMetadata(MetadataNames.NuGetPackageVersion);
            return string.Equals(libraryName, $"{packageId}/{version}", StringComparison.OrdinalIgnoreCase)
                && string.Equals(PublishPaths.Normalize(file.GetMetadata(MetadataNames.PathInPackage)), assetPath, StringComparison.Ordinal);
        }
        return string.Equals(file.GetMetadata(MetadataNames.MovedPath), assetPath, StringComparison.Ordinal);
    }
}
