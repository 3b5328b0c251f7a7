namespace SnapLoader.Build.Tasks.Elf;

/// <summary>The order in which the runtime loads the moved libraries, so that each one finds what it needs already loaded.</summary>
public static class LoadOrder
{
    /// <summary>
    /// Orders libraries so that every library comes after the libraries of the set that it needs. A DT_NEEDED entry
    /// names a library of the set when it equals that library's SONAME or its file name: the loader reuses a loaded
    /// object whose SONAME matches, and otherwise opens the file by that name, which is how libtorch_cpu.so's
    /// DT_NEEDED "libgomp-98b21ff3.so.1" finds a file whose SONAME is "libgomp.so.1". Needs outside the set are ignored.
    /// </summary>
    /// <remarks>
    /// Deterministic: among libraries that could come next, the one whose file name sorts first (ordinal) does. Libraries
    /// that need each other are kept together, ordered to honour as many of their needs as possible (when none of them
    /// can come next, the one whose file name sorts first does), and reported in <see cref="LoadOrderResult{T}.Cycles"/>
    /// so the caller can warn with SNAP0021.
    /// </remarks>
    /// <typeparam name="T">The caller's library item.</typeparam>
    /// <param name="libraries">The libraries to order.</param>
    /// <param name="fileName">The file name of a library (no directory), as it will be found at run time.</param>
    /// <param name="facts">The ELF facts of a library; called once per library.</param>
    public static LoadOrderResult<T> Sort<T>(IReadOnlyList<T> libraries, Func<T, string> fileName, Func<T, ElfFacts> facts)
    {
        ArgumentNullException.ThrowIfNull(libraries);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(facts);

        var count = libraries.Count;
        var names = libraries.Select(fileName).ToArray();
        var rank = RankByName(names);
        var needs = FindNeeds(libraries.Select(facts).ToArray(), names, rank);
        var component = StronglyConnectedComponents.Find(needs);

        var componentCount = count == 0 ? 0 : component.Max() + 1;
        var members = new List<int>[componentCount];
        var pending = new int[componentCount];
        var neededBy = new List<int>[componentCount];
        for (var c = 0; c < componentCount; c++)
        {
            members[c] = [];
            neededBy[c] = [];
        }
        foreach (var library in Enumerable.Range(0, count).OrderBy(library => rank[library]))
        {
            members[component[library]].Add(library);
        }
        for (var c = 0; c < componentCount; c++)
        {
            foreach (var needed in members[c].SelectMany(library => needs[library]).Select(library => component[library]).Where(other => other != c).Distinct())
            {
                pending[c]++;
                neededBy[needed].Add(c);
            }
        }

        // Kahn's algorithm over the components; members are in rank order, so members[c][0] has the lowest rank.
        var ready = new PriorityQueue<int, int>();
        for (var c = 0; c < componentCount; c++)
        {
            if (pending[c] == 0)
            {
                ready.Enqueue(c, rank[members[c][0]]);
            }
        }
        var ordered = new List<T>(count);
        var cycles = new List<IReadOnlyList<string>>();
        while (ready.TryDequeue(out var c, out _))
        {
            var loaded = OrderWithin(members[c], needs);
            ordered.AddRange(loaded.Select(library => libraries[library]));
            if (loaded.Count > 1)
            {
                cycles.Add(loaded.Select(library => names[library]).ToArray());
            }
            foreach (var dependent in neededBy[c])
            {
                if (--pending[dependent] == 0)
                {
                    ready.Enqueue(dependent, rank[members[dependent][0]]);
                }
            }
        }
        return new LoadOrderResult<T>(ordered, cycles);
    }

    /// <summary>Each library's position when sorted by ordinal file name, input order breaking ties.</summary>
    private static int[] RankByName(string[] names)
    {
        var rank = new int[names.Length];
        var byName = Enumerable.Range(0, names.Length).OrderBy(library => names[library], StringComparer.Ordinal).ThenBy(library => library).ToArray();
        for (var position = 0; position < byName.Length; position++)
        {
            rank[byName[position]] = position;
        }
        return rank;
    }

    /// <summary>For each library, the other libraries of the set it needs, in rank order.</summary>
    private static IReadOnlyList<int>[] FindNeeds(ElfFacts[] facts, string[] names, int[] rank)
    {
        var providers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        void Provide(string name, int library)
        {
            if (!providers.TryGetValue(name, out var list))
            {
                providers[name] = list = [];
            }
            if (!list.Contains(library))
            {
                list.Add(library);
            }
        }
        for (var library = 0; library < names.Length; library++)
        {
            Provide(names[library], library);
            if (facts[library].Soname is { Length: > 0 } soname)
            {
                Provide(soname, library);
            }
        }

        var needs = new IReadOnlyList<int>[names.Length];
        for (var library = 0; library < names.Length; library++)
        {
            needs[library] = facts[library].Needed
                .SelectMany(name => providers.TryGetValue(name, out var list) ? list : [])
                .Where(other => other != library)
                .Distinct()
                .OrderBy(other => rank[other])
                .ToArray();
        }
        return needs;
    }

    /// <summary>
    /// The members of one component in load order. One member: itself. Several (a cycle): repeatedly the first by rank
    /// whose needs within the component are all loaded, or, when there is none, the first by rank (breaking its needs
    /// on the members not yet loaded). The same input gives the same order every time.
    /// </summary>
    private static List<int> OrderWithin(List<int> members, IReadOnlyList<int>[] needs)
    {
        if (members.Count == 1)
        {
            return members;
        }
        var loaded = new List<int>(members.Count);
        var remaining = new List<int>(members);
        while (remaining.Count > 0)
        {
            var next = remaining.FirstOrDefault(library => needs[library].All(needed => !remaining.Contains(needed)), remaining[0]);
            loaded.Add(next);
            remaining.Remove(next);
        }
        return loaded;
    }
}
