using System.Globalization;

namespace SnapLoader.Runtime;

/// <summary>How much memory the function may use, and where that number came from (for the error message).</summary>
/// <param name="Bytes">The limit in bytes.</param>
/// <param name="Source">The environment variable or cgroup file it was read from.</param>
internal sealed record MemoryLimit(long Bytes, string Source)
{
    /// <summary>Lambda's variable: the function's configured memory in MB (Lambda's MB are MiB: 128 is 134,217,728 bytes).</summary>
    public const string LambdaMemoryVariable = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";

    /// <summary>
    /// cgroup v1 reports "no limit" as the largest page-aligned 63-bit number (9,223,372,036,854,771,712); anything from
    /// 2^62 bytes up is no limit any machine has.
    /// </summary>
    private const long NoLimitFrom = 1L << 62;

    /// <summary>
    /// The limit of this process: the lower of <see cref="LambdaMemoryVariable"/> (Lambda always sets it) and the
    /// cgroup's; <see langword="null"/> when neither says (a local run without a limit).
    /// </summary>
    public static MemoryLimit? Find() =>
        Lower(FromEnvironment(Environment.GetEnvironmentVariable(LambdaMemoryVariable)), FromCgroup("/sys/fs/cgroup", "/proc/self/cgroup"));

    /// <summary>
    /// The limit that binds: the cgroup's when it is lower than the configured memory (the kernel's OOM killer acts on
    /// the cgroup, whatever the variable says: a container run with a smaller cap, or a variable set by hand), else the
    /// variable's.
    /// </summary>
    internal static MemoryLimit? Lower(MemoryLimit? environment, MemoryLimit? cgroup) =>
        environment is null ? cgroup
        : cgroup is null || cgroup.Bytes >= environment.Bytes ? environment
        : cgroup with { Source = $"{cgroup.Source}, lower than {environment.Source}" };

    /// <summary>The limit <paramref name="megabytes"/> gives, if it is a positive whole number of MB.</summary>
    public static MemoryLimit? FromEnvironment(string? megabytes) =>
        long.TryParse(megabytes, NumberStyles.None, CultureInfo.InvariantCulture, out var mb) && mb is > 0 and < NoLimitFrom >> 20
            ? new MemoryLimit(mb << 20, $"{LambdaMemoryVariable}={mb}")
            : null;

    /// <summary>
    /// The smallest memory limit on the way from this process's cgroup up to the root of the hierarchy (a parent's
    /// limit binds its children), cgroup v2 (<c>memory.max</c>) or v1 (<c>memory/memory.limit_in_bytes</c>).
    /// </summary>
    /// <param name="cgroupRoot">Where the cgroup file systems are mounted: <c>/sys/fs/cgroup</c>.</param>
    /// <param name="procSelfCgroup">This process's cgroup membership: <c>/proc/self/cgroup</c>.</param>
    public static MemoryLimit? FromCgroup(string cgroupRoot, string procSelfCgroup)
    {
        MemoryLimit? smallest = null;
        foreach (var file in CgroupLimitFiles(cgroupRoot, procSelfCgroup))
        {
            string text;
            try
            {
                text = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            // "max" (v2) or a huge number (v1) means this level sets no limit.
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes is > 0 and < NoLimitFrom
                && (smallest is null || bytes < smallest.Bytes))
            {
                smallest = new MemoryLimit(bytes, file);
            }
        }
        return smallest;
    }

    /// <summary>
    /// The limit files that exist, from the process's own cgroup up to the root. Inside a container the cgroup path in
    /// <paramref name="procSelfCgroup"/> may be the host's, under which the container's mount has nothing: the root of
    /// the mount (the container's own cgroup) is always looked at.
    /// </summary>
    internal static IEnumerable<string> CgroupLimitFiles(string cgroupRoot, string procSelfCgroup)
    {
        var (v2Path, v1Path) = CgroupPaths(procSelfCgroup);
        var files = Ancestors(cgroupRoot, v2Path).Select(f => Path.Combine(f, "memory.max"))
            .Concat(Ancestors(Path.Combine(cgroupRoot, "memory"), v1Path).Select(f => Path.Combine(f, "memory.limit_in_bytes")));
        return files.Where(File.Exists).Distinct().ToList();
    }

    /// <summary>
    /// The process's cgroup paths from <paramref name="procSelfCgroup"/>: v2's ("0::/path") and v1's memory controller's
    /// ("4:memory:/path"); "/" for one it does not name, or when it cannot be read.
    /// </summary>
    internal static (string V2, string V1) CgroupPaths(string procSelfCgroup)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(procSelfCgroup);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = [];
        }
        // Lines are "hierarchy-id:controllers:path".
        var v2Path = "/";
        var v1Path = "/";
        foreach (var parts in lines.Select(l => l.Split(':', 3)).Where(p => p.Length == 3))
        {
            if (parts[0] == "0" && parts[1].Length == 0)
            {
                v2Path = parts[2];
            }
            else if (parts[1].Split(',').Contains("memory"))
            {
                v1Path = parts[2];
            }
        }
        return (v2Path, v1Path);
    }

    /// <summary><paramref name="mount"/> joined with <paramref name="path"/>, then each parent up to <paramref name="mount"/>.</summary>
    private static IEnumerable<string> Ancestors(string mount, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s is "." or ".."))
        {
            segments = [];
        }
        for (var count = segments.Length; count >= 0; count--)
        {
            yield return count == 0 ? mount : Path.Combine(mount, string.Join('/', segments[..count]));
        }
    }
}
