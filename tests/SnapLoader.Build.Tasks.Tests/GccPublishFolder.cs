using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// A publish folder of libraries that gcc builds with the SONAME, DT_NEEDED, RUNPATH or RPATH a test asks for. Each
/// DT_NEEDED name comes from a stub library of that SONAME linked in, so the name is exactly the one given.
/// </summary>
internal sealed class GccPublishFolder
{
    private readonly string _stubs;
    private readonly Dictionary<string, string> _stubBySoname = new(StringComparer.Ordinal);
    private int _count;

    public GccPublishFolder(string prefix)
    {
        RequireGcc();
        Root = TestPaths.NewTempFolder(prefix);
        _stubs = TestPaths.NewTempFolder(prefix + "-stubs");
    }

    /// <summary>The publish folder; on Lambda, /var/task.</summary>
    public string Root { get; }

    /// <summary>
    /// Builds the library at <paramref name="relativePath"/> (forward slashes) under <see cref="Root"/>. A RUNPATH
    /// is written as DT_RUNPATH, or as DT_RPATH when <paramref name="asRpath"/> is set.
    /// </summary>
    public string Library(string relativePath, string? soname = null, string[]? needed = null, string? runpath = null, bool asRpath = false)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var arguments = new List<string>();
        if (soname is not null)
        {
            arguments.Add("-Wl,-soname," + soname);
        }
        arguments.AddRange((needed ?? []).Select(Stub));
        if (runpath is not null)
        {
            arguments.Add("-Wl,-rpath," + runpath);
            arguments.Add(asRpath ? "-Wl,--disable-new-dtags" : "-Wl,--enable-new-dtags");
        }
        BuildLibrary(Path.GetDirectoryName(path)!, Path.GetFileName(path), $"int fixture_{_count++}(void) {{ return 0; }}\n", [.. arguments]);
        return path;
    }

    /// <summary>A moved library as SelectMovedFiles hands it on.</summary>
    public ITaskItem Moved(string relativePath, string kind = "NativeLibrary")
    {
        var item = new TaskItem(Path.Combine(Root, relativePath));
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("SnapLoaderKind", kind);
        return item;
    }

    /// <summary>The facts of every library given, read as the task reads them, for <see cref="LibraryNeeds.Resolve"/>.</summary>
    public (string RelativePath, ElfFacts Facts)[] Read(params string[] relativePaths) =>
        relativePaths.Select(p => (p, ElfFile.Read(Path.Combine(Root, p)))).ToArray();

    private string Stub(string soname)
    {
        if (!_stubBySoname.TryGetValue(soname, out var stub))
        {
            var name = $"stub{_stubBySoname.Count}.so";
            stub = BuildLibrary(_stubs, name, $"int stub_{_stubBySoname.Count}(void) {{ return 0; }}\n", "-Wl,-soname," + soname);
            _stubBySoname[soname] = stub;
        }
        return stub;
    }
}
