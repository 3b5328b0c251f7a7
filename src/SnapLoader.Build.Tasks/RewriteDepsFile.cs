using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Removes the moved files from the published deps.json. The host tolerates a listed native asset that is missing
/// only while no probe path is configured (DOTNET_SHARED_STORE or DOTNET_ADDITIONAL_DEPS make it a startup
/// failure), so the published file must not list them.
/// </summary>
public sealed class RewriteDepsFile : SnapLoaderTask
{
    private static readonly string[] s_assetGroups = ["native", "runtimeTargets"];

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
    [Required]
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>How many asset entries were removed.</summary>
    [Output]
    public int RemovedCount { get; private set; }

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(DepsFile), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new SnapLoaderBuildException(ErrorCodes.DepsFileUnreadable, $"Could not read '{DepsFile}' to remove the moved files from it: {e.Message}", DepsFile, e);
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
                    removed += RemoveMovedAssets(libraryName, assets);
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

    private int RemoveMovedAssets(string libraryName, JsonObject library)
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
                if (MovedFiles.Any(moved => IsSameAsset(moved, libraryName, assetPath)))
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
    private static bool IsSameAsset(ITaskItem moved, string libraryName, string assetPath)
    {
        var packageId = moved.GetMetadata(MetadataNames.NuGetPackageId);
        if (packageId.Length > 0)
        {
            var version = moved.GetMetadata(MetadataNames.NuGetPackageVersion);
            return string.Equals(libraryName, $"{packageId}/{version}", StringComparison.OrdinalIgnoreCase)
                && string.Equals(PublishPaths.Normalize(moved.GetMetadata(MetadataNames.PathInPackage)), assetPath, StringComparison.Ordinal);
        }
        return string.Equals(moved.GetMetadata(MetadataNames.MovedPath), assetPath, StringComparison.Ordinal);
    }
}
