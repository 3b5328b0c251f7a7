using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Reads the ELF facts of the moved libraries, checks that each one is built for the target RID's machine, resolves
/// the moved libraries each one needs as the loader would in the original layout (<see cref="LibraryNeeds"/>), marks
/// the ones <see cref="LoadAtInit"/> names, reports the libraries that share a SONAME, and puts the moved files in
/// the archive's order: every library after the libraries it needs, then the data files.
/// </summary>
public sealed class AnalyzeNativeLibraries : SnapLoaderTask
{
    /// <summary>The moved files from <see cref="SelectMovedFiles"/>.</summary>
    [Required]
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>linux-x64 or linux-arm64.</summary>
    [Required]
    public string RuntimeIdentifier { get; set; } = "";

    /// <summary>
    /// SnapLoaderLoadAtInit items: the moved libraries to load at init rather than when first opened, for a SnapStart
    /// snapshot that should hold them though no code opens them during init. Matched against the publish-relative
    /// paths as SnapLoaderInclude is (globs, exact paths, files of the project).
    /// </summary>
    public ITaskItem[] LoadAtInit { get; set; } = [];

    /// <summary>
    /// The same items in load order, libraries with SnapLoaderSoname, SnapLoaderNeeded, SnapLoaderRunpath,
    /// SnapLoaderNeeds (the moved libraries it needs, ';'-separated relative paths) and, when
    /// <see cref="LoadAtInit"/> names them, SnapLoaderLoadAtInit=true.
    /// </summary>
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
            // Names and paths from the file, kept exactly (MSBuildEscaping): $ORIGIN in a RUNPATH, % in a name.
            MSBuildEscaping.SetLiteral(item, MetadataNames.Soname, facts.Soname ?? "");
            MSBuildEscaping.SetLiteral(item, MetadataNames.Needed, string.Join(";", facts.Needed));
            MSBuildEscaping.SetLiteral(item, MetadataNames.Runpath, string.Join(":", facts.Runpath));
            libraries.Add((item, facts));
        }
        if (Log.HasLoggedErrors)
        {
            return;
        }

        var needs = LibraryNeeds.Resolve(libraries.Select(l => (l.Item.GetMetadata(MetadataNames.MovedPath), l.Facts)).ToArray());
        for (var library = 0; library < libraries.Count; library++)
        {
            MSBuildEscaping.SetLiteral(libraries[library].Item, MetadataNames.Needs, string.Join(";", needs[library]));
        }
        ReportSameSonames(libraries);
        MarkLoadAtInit(libraries.Select(l => l.Item).ToArray(), data);

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

    /// <summary>
    /// One high-importance message per SONAME that several moved libraries share (CPU variants in sibling folders):
    /// each one loads only when its own loader opens it, with the libraries <see cref="LibraryNeeds"/> found for it.
    /// </summary>
    private void ReportSameSonames(List<(ITaskItem Item, ElfFacts Facts)> libraries)
    {
        var groups = libraries
            .Where(l => l.Facts.Soname is { Length: > 0 })
            .GroupBy(l => l.Facts.Soname!, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var paths = group.Select(l => l.Item.GetMetadata(MetadataNames.MovedPath)).Order(StringComparer.Ordinal).ToArray();
            LogHigh($"SnapLoader moved {paths.Length} libraries with the SONAME {group.Key} ({DescribeGroup(paths)}): " +
                "each loads only when its own loader opens it, with the libraries of its own folder.");
        }
    }

    /// <summary>
    /// The libraries of a group (paths in ordinal order): their folders when they share a file name
    /// ("a/native/avx/, avx2/"; the root is "./"), else their paths, the folders they all share written only once, in
    /// front of the first.
    /// </summary>
    internal static string DescribeGroup(IReadOnlyList<string> paths)
    {
        var sameName = paths.Select(Path.GetFileName).Distinct(StringComparer.Ordinal).Count() == 1;
        var shown = sameName ? paths.Select(LibraryNeeds.FolderOf).ToArray() : paths.ToArray();
        var segments = shown.Select(p => p.Length == 0 ? [] : p.Split('/')).ToArray();
        var common = 0;
        // Only folders that leave every entry a segment of its own are written once.
        while (segments.All(s => s.Length > common + 1 && s[common] == segments[0][common]))
        {
            common++;
        }
        var prefix = string.Concat(segments[0].Take(common).Select(s => s + "/"));
        string Show(string[] s) => string.Join('/', s.Skip(common)) + (sameName ? "/" : "");
        return prefix + string.Join(", ", segments.Select(s => sameName && s.Length == 0 ? "./" : Show(s)));
    }

    /// <summary>
    /// Sets SnapLoaderLoadAtInit=true on the libraries that a <see cref="LoadAtInit"/> item names, and warns with
    /// SNAP0009 for an item that names none of them (data files never load).
    /// </summary>
    private void MarkLoadAtInit(ITaskItem[] libraries, List<ITaskItem> data)
    {
        bool Matches(SelectMovedFiles.PathPatterns pattern, ITaskItem file) =>
            pattern.Matches(file.GetMetadata(MetadataNames.MovedPath), Path.GetFullPath(file.ItemSpec));

        foreach (var request in LoadAtInit)
        {
            var pattern = SelectMovedFiles.PathPatterns.From([request]);
            var matched = libraries.Where(library => Matches(pattern, library)).ToArray();
            if (matched.Length == 0)
            {
                var what = data.Any(file => Matches(pattern, file))
                    ? "matches only moved data files, which are opened as files and never loaded"
                    : "matches no moved library";
                LogWarning(ErrorCodes.LoadAtInitUnmatched,
                    $"The SnapLoaderLoadAtInit item '{request.ItemSpec}' {what}, so nothing loads at init for it. " +
                    "Use the library's path relative to the publish folder (as the report lists the moved files), a glob such as runtimes/linux-x64/native/**/*.so, " +
                    "or a SnapLoaderInclude item if the library stays in the deployment.");
                continue;
            }
            foreach (var library in matched)
            {
                if (library.GetMetadata(MetadataNames.LoadAtInit) != "true")
                {
                    library.SetMetadata(MetadataNames.LoadAtInit, "true");
                    Log.LogMessage(MessageImportance.Normal,
                        $"SnapLoader loads '{library.GetMetadata(MetadataNames.MovedPath)}' at init, as SnapLoaderLoadAtInit '{request.ItemSpec}' asks, with the moved libraries it needs.");
                }
            }
        }
    }
}
