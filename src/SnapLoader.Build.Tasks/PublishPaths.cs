using System.Text.RegularExpressions;

namespace SnapLoader.Build.Tasks;

/// <summary>Rules about publish-relative paths shared by the tasks.</summary>
internal static class PublishPaths
{
    // libfoo.so, libfoo.so.1, libfoo.so.1.2.3: the names the dynamic loader opens.
    private static readonly Regex s_sharedLibraryName = new(@"\.so(\.\d+)*$", RegexOptions.CultureInvariant);

    /// <summary>The path with forward slashes and no leading "./", as archive entries and manifests use it.</summary>
    public static string Normalize(string relativePath)
    {
        var path = relativePath.Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path.Substring(2);
        }
        return path;
    }

    /// <summary>Whether the name looks like a shared library (<c>*.so</c> or <c>*.so.N</c>).</summary>
    public static bool HasSharedLibraryName(string path) => s_sharedLibraryName.IsMatch(Path.GetFileName(path));

    /// <summary>
    /// Whether a file at this path is loaded on <paramref name="runtimeIdentifier"/>: files outside <c>runtimes/</c>
    /// are (a RID-specific publish flattens them to the root), files under <c>runtimes/</c> only in the RID's own folder.
    /// </summary>
    public static bool AppliesToRuntime(string normalizedPath, string runtimeIdentifier) =>
        !normalizedPath.StartsWith("runtimes/", StringComparison.Ordinal)
        || normalizedPath.StartsWith($"runtimes/{runtimeIdentifier}/", StringComparison.Ordinal);
}
