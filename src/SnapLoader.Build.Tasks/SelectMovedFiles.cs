using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.Extensions.FileSystemGlobbing;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Picks the files to move out of the publish set: every ELF file that is a package's native asset or is named
/// <c>*.so</c> or <c>*.so.N</c>, for the target RID, of at least
/// <see cref="Threshold"/> bytes, plus what <see cref="Include"/> names, minus what <see cref="Exclude"/> names, plus
/// every library of the publish set that a moved library needs (DT_NEEDED), whatever its size.
/// </summary>
public sealed class SelectMovedFiles : SnapLoaderTask
{
    // The (source, relative path) pairs already decided: see Select.
    private readonly HashSet<(string FullPath, string RelativePath)> _decided = [];

    /// <summary>The publish set (ResolvedFileToPublish), each with its RelativePath metadata.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>SnapLoaderInclude items: globs or exact paths relative to the publish folder, or files of the project.</summary>
    public ITaskItem[] Include { get; set; } = [];

    /// <summary>SnapLoaderExclude items, matched the same way; they win over everything else.</summary>
    public ITaskItem[] Exclude { get; set; } = [];

    /// <summary>Files that stay whatever the patterns say: deps and runtimeconfig files, the wrapper, the shim.</summary>
    public ITaskItem[] NeverMove { get; set; } = [];

    /// <summary>Smallest size in bytes of a native library moved by default.</summary>
    public long Threshold { get; set; } = 1024 * 1024;

    /// <summary>linux-x64 or linux-arm64.</summary>
    [Required]
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>The items of <see cref="Files"/> to move, with SnapLoaderRelativePath, SnapLoaderKind and SnapLoaderSize.</summary>
    [Output]
    public ITaskItem[] MovedFiles { get; private set; } = [];

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var include = PathPatterns.From(Include);
        var exclude = PathPatterns.From(Exclude);
        var neverMove = new HashSet<string>(NeverMove.Select(i => Path.GetFullPath(i.ItemSpec)), StringComparer.Ordinal);
        var moved = new List<ITaskItem>();
        var staying = new List<ITaskItem>();

        foreach (var file in Files)
        {
            try
            {
                Select(file, include, exclude, neverMove, moved, staying);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SnapLoaderBuildException(ErrorCodes.SourceFileUnreadable,
                    $"Could not read '{file.ItemSpec}' of the publish set to decide whether it moves: {e.Message}", file.ItemSpec, e);
            }
        }

        AddNeededLibraries(moved, staying);
        MovedFiles = moved.OrderBy(i => i.GetMetadata(MetadataNames.MovedPath), StringComparer.Ordinal).ToArray();
        if (MovedFiles.Length == 0)
        {
            LogWarning(ErrorCodes.NothingSelected,
                $"SnapLoader found nothing to move: no ELF library for {RuntimeIdentifier} of at least {Threshold:N0} bytes and nothing matched by SnapLoaderInclude. " +
                "Lower SnapLoaderThreshold, add SnapLoaderInclude items, or set SnapLoaderEnabled=false.");
        }
    }

    /// <param name="staying">Receives the libraries that stay, but would move if a moved library needs them.</param>
    private void Select(ITaskItem file, PathPatterns include, PathPatterns exclude, HashSet<string> neverMove, List<ITaskItem> moved, List<ITaskItem> staying)
    {
        var relativePath = PublishPaths.Normalize(file.GetMetadata(MetadataNames.RelativePath) is { Length: > 0 } r ? r : Path.GetFileName(file.ItemSpec));
        var fullPath = Path.GetFullPath(file.ItemSpec);
        var info = new FileInfo(fullPath);
        var included = include.Matches(relativePath, fullPath);

        if (!info.Exists || exclude.Matches(relativePath, fullPath))
        {
            return;
        }
        // The SDK's own de-duplication of the publish set trims item specs, so a file whose name starts or ends with
        // a space can arrive twice (as Content and as None, say). It is one file copied to one place, so it moves once;
        // Remove takes both items out of the publish set.
        if (!_decided.Add((fullPath, relativePath)))
        {
            Log.LogMessage(MessageImportance.Low, $"SnapLoader: '{relativePath}' is in the publish set twice, from the same file; it is decided once.");
            return;
        }
        if (neverMove.Contains(fullPath) || IsManagedOrHostFile(file, fullPath, relativePath))
        {
            if (included)
            {
                LogWarning(ErrorCodes.IncludeIgnored,
                    $"'{relativePath}' matches SnapLoaderInclude but stays in the deployment: managed assemblies, the .NET runtime of a self-contained publish, deps/runtimeconfig files, the exec wrapper and the preload shim are never moved.",
                    fullPath);
            }
            return;
        }

        // What the dynamic loader opens is an ELF file named like a library. A package's other ELF native assets
        // (debug files such as libLdaNative.so.dbg) move too, as data; its Windows and macOS binaries never load
        // on Lambda and stay where they are.
        var isElf = ElfFile.IsElf(fullPath);
        var isLibrary = isElf && PublishPaths.HasSharedLibraryName(relativePath);
        var isNativeAsset = isElf && file.GetMetadata(MetadataNames.AssetType) == "native";
        var byDefault = (isLibrary || isNativeAsset)
            && info.Length >= Threshold
            && PublishPaths.AppliesToRuntime(relativePath, RuntimeIdentifier);
        // Taken out of ResolvedFileToPublish by Remove, and its path read back by every later task: see MSBuildEscaping.
        var item = MSBuildEscaping.CopyForRemove(file);
        MSBuildEscaping.SetLiteral(item, MetadataNames.MovedPath, relativePath);
        item.SetMetadata(MetadataNames.Kind, isLibrary ? MovedFileKinds.NativeLibrary : MovedFileKinds.Data);
        item.SetMetadata(MetadataNames.Size, info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (byDefault || included)
        {
            moved.Add(item);
        }
        else if (isLibrary && PublishPaths.AppliesToRuntime(relativePath, RuntimeIdentifier))
        {
            staying.Add(item);
        }
    }

    /// <summary>
    /// Moves the libraries that moved libraries need, to a fixed point. A moved library is loaded from the link farm
    /// in /tmp, where the dynamic loader does not find a dependency left in the deployment: its $ORIGIN RUNPATH then
    /// points into the farm, and Lambda's LD_LIBRARY_PATH holds the task root but none of its subfolders. libtorch_cpu.so
    /// (461 MB) needs libgomp-98b21ff3.so.1 (283 KB), for example. A DT_NEEDED entry names a library by its file
    /// name or its SONAME, as in <see cref="LoadOrder"/>.
    /// </summary>
    private void AddNeededLibraries(List<ITaskItem> moved, List<ITaskItem> staying)
    {
        var pending = new Queue<ITaskItem>(moved.Where(i => i.GetMetadata(MetadataNames.Kind) == MovedFileKinds.NativeLibrary));
        var sonames = new Lazy<Dictionary<ITaskItem, string?>>(() => staying.ToDictionary(i => i, SonameOrNull));
        while (pending.Count > 0 && staying.Count > 0)
        {
            var library = pending.Dequeue();
            foreach (var needed in ElfFile.Read(library.ItemSpec).Needed)
            {
                var dependency = staying.FirstOrDefault(i => Path.GetFileName(i.GetMetadata(MetadataNames.MovedPath)) == needed)
                    ?? staying.FirstOrDefault(i => sonames.Value[i] == needed);
                if (dependency is null)
                {
                    continue;
                }
                staying.Remove(dependency);
                moved.Add(dependency);
                pending.Enqueue(dependency);
                Log.LogMessage(MessageImportance.Normal,
                    $"SnapLoader moves '{dependency.GetMetadata(MetadataNames.MovedPath)}' with '{library.GetMetadata(MetadataNames.MovedPath)}', which needs it.");
            }
        }
    }

    // A library that stays need not be readable by the ELF reader: one it cannot parse simply matches no DT_NEEDED by SONAME.
    private string? SonameOrNull(ITaskItem library)
    {
        try
        {
            return ElfFile.Read(library.ItemSpec).Soname;
        }
        catch (SnapLoaderBuildException e)
        {
            Log.LogMessage(MessageImportance.Low, $"SnapLoader could not read the SONAME of '{library.ItemSpec}', which stays in the deployment: {e.Message}");
            return null;
        }
    }

    // Managed assemblies and the host's own files must stay: the runtime and the host read them before any
    // SnapLoader code runs. So must the .NET runtime that a self-contained publish carries (a custom runtime, or a
    // function on a framework the managed runtime lacks): the host loads libcoreclr.so and libclrjit.so from it
    // before any managed code. A PE image (managed or not) is never something the Linux loader opens either.
    private static bool IsManagedOrHostFile(ITaskItem file, string fullPath, string relativePath) =>
        IsRuntimePackFile(file)
        || relativePath.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase)
        || relativePath.EndsWith(".runtimeconfig.json", StringComparison.OrdinalIgnoreCase)
        || StartsWithPeMagic(fullPath);

    /// <summary>
    /// Whether the item is a file of a runtime pack, the .NET runtime that a self-contained publish carries: the SDK
    /// gives its files the pack's id, Microsoft.NETCore.App.Runtime.linux-x64 and the like.
    /// </summary>
    internal static bool IsRuntimePackFile(ITaskItem file) =>
        file.GetMetadata(MetadataNames.NuGetPackageId) is var id
        && id.StartsWith("Microsoft.", StringComparison.Ordinal) && id.Contains(".App.Runtime.", StringComparison.Ordinal);

    private static bool StartsWithPeMagic(string path)
    {
        Span<byte> magic = stackalloc byte[2];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        return stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == (byte)'M' && magic[1] == (byte)'Z';
    }

    /// <summary>SnapLoaderInclude/SnapLoaderExclude items as matchers; AnalyzeNativeLibraries matches SnapLoaderLoadAtInit with it.</summary>
    internal sealed class PathPatterns
    {
        private readonly Matcher? _globs;
        private readonly HashSet<string> _exactPaths = new(StringComparer.Ordinal);
        private readonly HashSet<string> _fullPaths = new(StringComparer.Ordinal);

        private PathPatterns(Matcher? globs) => _globs = globs;

        // MSBuild expands a wildcard item against the project folder and drops it when nothing there matches,
        // so an item arrives either as a glob that survived (escaped as %2A), an exact relative path, or a
        // project file that the glob matched; each form is kept for what it can match.
        public static PathPatterns From(IEnumerable<ITaskItem> items)
        {
            var globs = new List<string>();
            var exactPaths = new List<string>();
            var fullPaths = new List<string>();
            foreach (var item in items)
            {
                var spec = PublishPaths.Normalize(item.ItemSpec);
                if (spec.IndexOfAny(['*', '?']) >= 0)
                {
                    globs.Add(spec);
                    continue;
                }
                exactPaths.Add(spec);
                fullPaths.Add(Path.GetFullPath(item.GetMetadata("FullPath") is { Length: > 0 } full ? full : item.ItemSpec));
            }

            Matcher? matcher = null;
            if (globs.Count > 0)
            {
                matcher = new Matcher(StringComparison.Ordinal);
                matcher.AddIncludePatterns(globs);
            }
            var patterns = new PathPatterns(matcher);
            patterns._exactPaths.UnionWith(exactPaths);
            patterns._fullPaths.UnionWith(fullPaths);
            return patterns;
        }

        public bool Matches(string relativePath, string fullPath) =>
            _exactPaths.Contains(relativePath)
            || _fullPaths.Contains(fullPath)
            || (_globs is not null && _globs.Match(relativePath).HasMatches);
    }
}
