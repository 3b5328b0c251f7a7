using System.Text.Json;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Finds the files of the publish set that only SnapLoader.Build brings into the function: SnapLoader.Runtime (with
/// the preload shim) and the packages that only it depends on (AWSSDK.S3, AWSSDK.Core, ZstdSharp.Port,
/// System.IO.Hashing, about 3 MB). A publish that moved nothing compiles no bootstrap, so nothing loads them.
/// </summary>
/// <remarks>
/// The dependency graph is the restore's, from project.assets.json: the packages reachable from
/// <see cref="PackageId"/>, less those reachable from any other direct dependency of the project or from a project
/// reference. A function that references SnapLoader.Runtime, or the AWS SDK, itself keeps it. Without an assets file
/// or a target of the framework in it, nothing is found, and everything is published as before.
/// </remarks>
public sealed class FindSnapLoaderRuntimeFiles : SnapLoaderTask
{
    /// <summary>The publish set (ResolvedFileToPublish), with the SDK's NuGetPackageId metadata.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>The restore's project.assets.json ($(ProjectAssetsFile)).</summary>
    [Required]
    public string ProjectAssetsFile { get; set; } = "";

    /// <summary>The project's TargetFramework, as restore keys it (net10.0).</summary>
    [Required]
    public string TargetFramework { get; set; } = "";

    /// <summary>The publish's RuntimeIdentifier; empty for a portable publish.</summary>
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>The package whose own dependencies are left out; SnapLoader.Build.</summary>
    public string PackageId { get; set; } = "SnapLoader.Build";

    /// <summary>The items of <see cref="Files"/> that come from packages only <see cref="PackageId"/> needs.</summary>
    [Output]
    public ITaskItem[] RuntimeFiles { get; private set; } = [];

    /// <summary>The ids of those packages, ordered; for the log and the tests.</summary>
    [Output]
    public string[] PackageIds { get; private set; } = [];

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        JsonDocument assets;
        try
        {
            assets = JsonDocument.Parse(File.ReadAllText(ProjectAssetsFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            Log.LogMessage(MessageImportance.Normal, $"SnapLoader publishes SnapLoader.Runtime although nothing moved: it could not read '{ProjectAssetsFile}': {e.Message}");
            return;
        }
        using (assets)
        {
            var packages = OnlyNeededBy(assets.RootElement);
            PackageIds = packages.Order(StringComparer.OrdinalIgnoreCase).ToArray();
        }
        var ids = new HashSet<string>(PackageIds, StringComparer.OrdinalIgnoreCase);
        RuntimeFiles = Files.Where(f => ids.Contains(f.GetMetadata(MetadataNames.NuGetPackageId))).ToArray();
        if (RuntimeFiles.Length > 0)
        {
            Log.LogMessage(MessageImportance.Normal,
                $"SnapLoader moved nothing, so it leaves out of the deployment what only {PackageId} brings ({string.Join(", ", PackageIds)}): {string.Join(", ", RuntimeFiles.Select(f => Path.GetFileName(f.ItemSpec)))}.");
        }
    }

    /// <summary>The packages reachable from <see cref="PackageId"/> and from no other root of the project.</summary>
    private HashSet<string> OnlyNeededBy(JsonElement root)
    {
        var none = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (FindTarget(root) is not { } target || FindDirectDependencies(root) is not { } direct
            || !direct.Contains(PackageId))
        {
            Log.LogMessage(MessageImportance.Low, $"SnapLoader found no target '{TargetFramework}' with a direct dependency on {PackageId} in '{ProjectAssetsFile}'.");
            return none;
        }

        var graph = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var others = direct.Where(id => !string.Equals(id, PackageId, StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var library in target.EnumerateObject())
        {
            var name = library.Name.Split('/')[0];
            var dependencies = library.Value.TryGetProperty("dependencies", out var d) && d.ValueKind == JsonValueKind.Object
                ? d.EnumerateObject().Select(p => p.Name).ToList()
                : [];
            graph[name] = dependencies;
            // A project reference brings its own packages; a transitive one is counted too, which only keeps more.
            if (library.Value.TryGetProperty("type", out var type) && type.GetString() == "project")
            {
                others.Add(name);
            }
        }

        var needed = Reachable(graph, [PackageId]);
        needed.ExceptWith(Reachable(graph, others));
        needed.Remove(PackageId);
        return needed;
    }

    private static HashSet<string> Reachable(Dictionary<string, List<string>> graph, IEnumerable<string> roots)
    {
        var reached = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>(roots);
        while (pending.Count > 0)
        {
            var id = pending.Pop();
            if (reached.Add(id) && graph.TryGetValue(id, out var dependencies))
            {
                foreach (var dependency in dependencies)
                {
                    pending.Push(dependency);
                }
            }
        }
        return reached;
    }

    // Restore keys the targets by framework, and by framework and RID ("net10.0/linux-x64") when a RID is restored.
    private JsonElement? FindTarget(JsonElement root)
    {
        if (!root.TryGetProperty("targets", out var targets) || targets.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var key = RuntimeIdentifier.Length > 0 ? $"{TargetFramework}/{RuntimeIdentifier}" : TargetFramework;
        foreach (var target in targets.EnumerateObject())
        {
            if (string.Equals(target.Name, key, StringComparison.OrdinalIgnoreCase))
            {
                return target.Value;
            }
        }
        return null;
    }

    private HashSet<string>? FindDirectDependencies(JsonElement root)
    {
        if (!root.TryGetProperty("project", out var project) || !project.TryGetProperty("frameworks", out var frameworks)
            || frameworks.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var framework in frameworks.EnumerateObject())
        {
            if (string.Equals(framework.Name, TargetFramework, StringComparison.OrdinalIgnoreCase))
            {
                return framework.Value.TryGetProperty("dependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Object
                    ? dependencies.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase)
                    : new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            }
        }
        return null;
    }
}
