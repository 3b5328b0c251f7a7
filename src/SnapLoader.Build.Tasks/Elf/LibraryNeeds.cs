namespace SnapLoader.Build.Tasks.Elf;

/// <summary>
/// Which moved libraries each moved library needs, resolved at build time as the dynamic loader resolves its DT_NEEDED
/// entries in the original layout, so that the runtime can load a library's own dependencies, and only those, when
/// something opens it.
/// </summary>
/// <remarks>
/// <para>
/// Why by folder and not by name alone: packages ship the same libraries several times, one folder per CPU variant.
/// LLamaSharp.Backend.Cpu 0.30.0 has libllama.so, libggml.so, libggml-base.so, libggml-cpu.so and libmtmd.so under each
/// of <c>runtimes/linux-x64/native/{avx,avx2,avx512,noavx}/</c>, with equal SONAMEs, and opens one folder chosen by
/// the CPU. Matching DT_NEEDED by name across the whole set (as <see cref="LoadOrder"/> does for the archive's order)
/// makes avx2/libllama.so need all four libggml.so; loading them binds it to whichever loads first, and maps variants
/// the CPU cannot run. Resolved by folder, avx2/libllama.so needs avx2/libggml.so and never a sibling variant's copy.
/// </para>
/// <para>
/// The folders searched for each DT_NEEDED name, in order: the library's own folder; its DT_RUNPATH entries (its
/// DT_RPATH entries when it has no RUNPATH) with <c>$ORIGIN</c>/<c>${ORIGIN}</c> replaced by its folder, where
/// only entries that land inside the task root (<c>/var/task</c>) count; then the task root's folders on Lambda's
/// LD_LIBRARY_PATH (<c>/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib</c>),
/// the root itself and <c>lib/</c>. The own folder comes first, unlike in ld.so, because the packages that ship
/// variants open a variant's libraries by full path, dependencies first: the copy already loaded, whose SONAME the
/// loader reuses, is the one beside the library. For the same reason RUNPATH comes before LD_LIBRARY_PATH here,
/// where ld.so searches LD_LIBRARY_PATH first (it does search RPATH first).
/// </para>
/// <para>
/// A moved library matches a name when its file name is that name, in the first folder (in the order above) that
/// has one; failing that in every folder, when its SONAME is that name, again in the first folder that has one. The
/// loader opens a DT_NEEDED entry as a file name, and reuses an object already loaded under that SONAME, which is how
/// libtorch_cpu.so's DT_NEEDED "libgomp-98b21ff3.so.1" names a file and a SONAME "libgomp.so.1" names libgomp.
/// Names that no moved library provides (system libraries, libraries that stay in the deployment) are left out, as
/// is a library's match with itself.
/// </para>
/// </remarks>
public static class LibraryNeeds
{
    /// <summary>The task root, where the deployment is unpacked on Lambda; the publish folder's paths are relative to it.</summary>
    public const string TaskRoot = "/var/task";

    /// <summary>Lambda's LD_LIBRARY_PATH, in order. The folders of it inside <see cref="TaskRoot"/> are searched.</summary>
    public const string LambdaLibraryPath = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib";

    /// <summary>
    /// For each library, the moved libraries it needs directly: their relative paths, in the order of its DT_NEEDED
    /// entries, each once.
    /// </summary>
    /// <param name="libraries">
    /// Every moved library: its path relative to the task root (forward slashes, as its entry name) and its ELF facts.
    /// </param>
    /// <returns>One list per input library, in input order; empty when it needs none of the others.</returns>
    public static IReadOnlyList<IReadOnlyList<string>> Resolve(IReadOnlyList<(string RelativePath, ElfFacts Facts)> libraries)
    {
        ArgumentNullException.ThrowIfNull(libraries);

        var byFolder = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var library = 0; library < libraries.Count; library++)
        {
            var folder = FolderOf(libraries[library].RelativePath);
            if (!byFolder.TryGetValue(folder, out var members))
            {
                byFolder[folder] = members = [];
            }
            members.Add(library);
        }
        // Within one folder the SONAME pass takes the file name that sorts first, whatever the input order.
        foreach (var members in byFolder.Values)
        {
            members.Sort((a, b) => string.CompareOrdinal(FileNameOf(libraries[a].RelativePath), FileNameOf(libraries[b].RelativePath)));
        }

        var result = new IReadOnlyList<string>[libraries.Count];
        for (var library = 0; library < libraries.Count; library++)
        {
            var (relativePath, facts) = libraries[library];
            var folders = SearchFolders(relativePath, facts);
            var needs = new List<string>();
            foreach (var name in facts.Needed)
            {
                var match = Find(folders, name, other => FileNameOf(libraries[other].RelativePath) == name)
                    ?? Find(folders, name, other => libraries[other].Facts.Soname == name);
                if (match is { } other && other != library && !needs.Contains(libraries[other].RelativePath))
                {
                    needs.Add(libraries[other].RelativePath);
                }
            }
            result[library] = needs;
        }
        return result;

        int? Find(IReadOnlyList<string> folders, string name, Func<int, bool> matches)
        {
            foreach (var folder in folders)
            {
                if (byFolder.TryGetValue(folder, out var members))
                {
                    foreach (var member in members)
                    {
                        if (matches(member))
                        {
                            return member;
                        }
                    }
                }
            }
            return null;
        }
    }

    /// <summary>
    /// The folders, relative to the task root ("" for the root itself, no trailing slash), where the loader looks for
    /// the DT_NEEDED entries of the library at <paramref name="relativePath"/>, in order, each once.
    /// </summary>
    public static IReadOnlyList<string> SearchFolders(string relativePath, ElfFacts facts)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        ArgumentNullException.ThrowIfNull(facts);

        var own = FolderOf(relativePath);
        var folders = new List<string> { own };
        void Add(string? folder)
        {
            if (folder is not null && !folders.Contains(folder))
            {
                folders.Add(folder);
            }
        }

        var origin = own.Length == 0 ? TaskRoot : $"{TaskRoot}/{own}";
        foreach (var entry in facts.Runpath.Count > 0 ? facts.Runpath : facts.Rpath)
        {
            Add(InsideTaskRoot(entry.Replace("${ORIGIN}", origin, StringComparison.Ordinal).Replace("$ORIGIN", origin, StringComparison.Ordinal)));
        }
        foreach (var entry in LambdaLibraryPath.Split(':'))
        {
            Add(InsideTaskRoot(entry));
        }
        return folders;
    }

    /// <summary>
    /// The folder relative to the task root of an absolute directory, or null when it lies outside it or cannot be
    /// known at build time. A relative entry is relative to the working directory, which on Lambda is the task root;
    /// an entry with another dynamic string token ($LIB, $PLATFORM) depends on the host and is left out.
    /// </summary>
    private static string? InsideTaskRoot(string directory)
    {
        if (directory.Length == 0 || directory.Contains('$', StringComparison.Ordinal))
        {
            return null;
        }
        var absolute = directory.StartsWith('/') ? directory : $"{TaskRoot}/{directory}";
        var segments = new List<string>();
        foreach (var segment in absolute.Split('/'))
        {
            switch (segment)
            {
                case "" or ".":
                    break;
                case "..":
                    if (segments.Count > 0)
                    {
                        segments.RemoveAt(segments.Count - 1);
                    }
                    break;
                default:
                    segments.Add(segment);
                    break;
            }
        }
        var root = TaskRoot.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Count < root.Length || !segments.Take(root.Length).SequenceEqual(root, StringComparer.Ordinal))
        {
            return null;
        }
        return string.Join('/', segments.Skip(root.Length));
    }

    /// <summary>The folder part of a relative path with forward slashes: "" for a file at the root.</summary>
    public static string FolderOf(string relativePath)
    {
        var slash = relativePath.LastIndexOf('/');
        return slash < 0 ? "" : relativePath[..slash];
    }

    private static string FileNameOf(string relativePath) => relativePath[(relativePath.LastIndexOf('/') + 1)..];
}
