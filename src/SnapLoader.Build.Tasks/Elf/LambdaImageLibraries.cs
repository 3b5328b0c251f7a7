namespace SnapLoader.Build.Tasks.Elf;

/// <summary>
/// The shared libraries that Lambda's dotnet10 runtime image provides, by SONAME: Amazon Linux 2023's minimal
/// container image (provided.al2023), libicu 67 and the .NET runtime. The list, with its sources and what in it is
/// inferred, is <c>LambdaImageLibraries.txt</c>, embedded in this assembly.
/// </summary>
public static class LambdaImageLibraries
{
    /// <summary>The manifest resource name of the embedded list.</summary>
    internal const string ResourceName = "SnapLoader.Build.Tasks.LambdaImageLibraries.txt";

    private static readonly Lazy<IReadOnlyList<Entry>> s_entries = new(() => Parse(ReadResource()));

    /// <summary>
    /// The SONAMEs the image has for <paramref name="machine"/>: the entries for every architecture, plus those for
    /// this machine's (x86_64 for EM_X86_64, aarch64 for EM_AARCH64). Compared ordinally, as the dynamic loader does.
    /// </summary>
    /// <param name="machine">An <c>e_machine</c> value (see <see cref="ElfMachines"/>).</param>
    public static IReadOnlySet<string> For(ushort machine) => For(s_entries.Value, machine);

    /// <summary>The entries of a list in the format of the embedded one that hold on <paramref name="machine"/>.</summary>
    internal static IReadOnlySet<string> For(IReadOnlyList<Entry> entries, ushort machine)
    {
        var architecture = ArchitectureName(machine);
        return entries
            .Where(e => e.Architectures.Count == 0 || (architecture is not null && e.Architectures.Contains(architecture)))
            .Select(e => e.Soname)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads the list: one SONAME per line, optionally followed by the architectures (x86_64, aarch64) it exists on;
    /// '#' starts a comment; blank lines are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">A line names an unknown architecture, or a SONAME twice for one architecture.</exception>
    internal static IReadOnlyList<Entry> Parse(string text)
    {
        var entries = new List<Entry>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var comment = rawLine.IndexOf('#');
            var line = (comment >= 0 ? rawLine[..comment] : rawLine).Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var architectures = fields.Skip(1).ToArray();
            foreach (var architecture in architectures)
            {
                if (architecture is not ("x86_64" or "aarch64"))
                {
                    throw new InvalidDataException($"Line {lineNumber} of the Lambda image's library list names the architecture '{architecture}'; only x86_64 and aarch64 exist.");
                }
            }
            var entry = new Entry(fields[0], architectures);
            if (entries.Any(e => e.Soname == entry.Soname && (e.Architectures.Count == 0 || entry.Architectures.Count == 0 || e.Architectures.Intersect(entry.Architectures).Any())))
            {
                throw new InvalidDataException($"Line {lineNumber} of the Lambda image's library list repeats '{entry.Soname}'.");
            }
            entries.Add(entry);
        }
        return entries;
    }

    /// <summary>The list's architecture name of a machine, or null for one Lambda does not run.</summary>
    private static string? ArchitectureName(ushort machine) => machine switch
    {
        ElfMachines.X86_64 => "x86_64",
        ElfMachines.AArch64 => "aarch64",
        _ => null,
    };

    private static string ReadResource()
    {
        using var stream = typeof(LambdaImageLibraries).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource '{ResourceName}' is missing from {typeof(LambdaImageLibraries).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>One line of the list.</summary>
    /// <param name="Soname">The library's SONAME.</param>
    /// <param name="Architectures">Where it exists; empty for both architectures.</param>
    internal sealed record Entry(string Soname, IReadOnlyList<string> Architectures);
}
