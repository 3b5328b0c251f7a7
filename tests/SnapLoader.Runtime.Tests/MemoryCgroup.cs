using System.Globalization;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// A child memory cgroup with a hard limit and no swap, as a Lambda function's sandbox has, for a test to start a
/// child process in: cgroup v2 (<c>memory.max</c>, <c>memory.swap.max</c>) where its memory controller is usable,
/// else v1's memory controller (<c>memory.limit_in_bytes</c>). It is made under the test process's own cgroup, at the
/// mount the runtime reads (<see cref="MemoryLimit.Find"/>), so the child's <c>/proc/self/cgroup</c> leads the runtime
/// to it. <see cref="Dispose"/> removes it; call it only once the child has exited (a cgroup with a task in it cannot go).
/// </summary>
internal sealed class MemoryCgroup : IDisposable
{
    private const string Root = "/sys/fs/cgroup";

    private MemoryCgroup(string folder, bool isV2)
    {
        Folder = folder;
        IsV2 = isV2;
    }

    /// <summary>The cgroup's folder.</summary>
    public string Folder { get; }

    /// <summary>Whether it is a cgroup v2 one.</summary>
    public bool IsV2 { get; }

    /// <summary>The file that holds the limit, spelled as the runtime names it in SNAP1028.</summary>
    public string LimitFile => Path.Combine(Folder, IsV2 ? "memory.max" : "memory.limit_in_bytes");

    /// <summary>The most memory the cgroup was charged at once (RSS, page cache, shmem such as memory files, kernel memory).</summary>
    public long PeakBytes => ReadNumber(IsV2 ? "memory.peak" : "memory.max_usage_in_bytes");

    /// <summary>
    /// How many processes the OOM killer ended in the cgroup. (Not v1's <c>memory.failcnt</c>: on this project's test
    /// machine, kernel 6.18, it stays 0 even when a child is OOM-killed.)
    /// </summary>
    public long OomKills => ReadKey(IsV2 ? "memory.events" : "memory.oom_control", "oom_kill");

    /// <summary>
    /// A new cgroup limited to <paramref name="limitBytes"/>, or <see langword="null"/> with <paramref name="whyNot"/>
    /// when none can be made here (not root, no memory controller mounted).
    /// </summary>
    public static MemoryCgroup? TryCreate(long limitBytes, out string whyNot)
    {
        var name = $"snaploader-test-{Guid.NewGuid():N}";
        var (v2Path, v1Path) = MemoryLimit.CgroupPaths("/proc/self/cgroup");
        string folder;
        bool isV2;
        if (File.Exists(Path.Combine(Root, "cgroup.controllers")) && Words(Path.Combine(Root, "cgroup.controllers")).Contains("memory"))
        {
            // v2 gives a child the controller only if the parent enables it for its children, which a non-root cgroup
            // that holds processes (this one) may not do: then no cgroup can be made here.
            var parent = Under(Root, v2Path);
            if (!Words(Path.Combine(parent, "cgroup.subtree_control")).Contains("memory") && !TryWrite(Path.Combine(parent, "cgroup.subtree_control"), "+memory", out whyNot))
            {
                whyNot = $"cgroup v2's memory controller cannot be enabled under {parent}: {whyNot}";
                return null;
            }
            (folder, isV2) = (Path.Combine(parent, name), true);
        }
        else if (File.Exists(Path.Combine(Root, "memory", "memory.limit_in_bytes")))
        {
            var parent = Under(Path.Combine(Root, "memory"), v1Path);
            (folder, isV2) = (Path.Combine(Directory.Exists(parent) ? parent : Path.Combine(Root, "memory"), name), false);
        }
        else
        {
            whyNot = $"No cgroup memory controller is mounted at {Root} (v2) or {Root}/memory (v1).";
            return null;
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"Cannot create the cgroup {folder} (it takes root): {e.Message}";
            return null;
        }
        var cgroup = new MemoryCgroup(folder, isV2);
        var limit = limitBytes.ToString(CultureInfo.InvariantCulture);
        // Lambda has no swap: the limit must be all the memory there is, or an over-limit child would swap, not die.
        var written = isV2
            ? TryWrite(Path.Combine(folder, "memory.max"), limit, out whyNot)
              && (!File.Exists(Path.Combine(folder, "memory.swap.max")) || TryWrite(Path.Combine(folder, "memory.swap.max"), "0", out whyNot))
            : TryWrite(Path.Combine(folder, "memory.limit_in_bytes"), limit, out whyNot)
              && (File.Exists(Path.Combine(folder, "memory.memsw.limit_in_bytes"))
                  ? TryWrite(Path.Combine(folder, "memory.memsw.limit_in_bytes"), limit, out whyNot)
                  : TryWrite(Path.Combine(folder, "memory.swappiness"), "0", out whyNot));
        if (!written)
        {
            cgroup.Dispose();
            whyNot = $"Cannot set the limits of {folder}: {whyNot}";
            return null;
        }
        whyNot = "";
        return cgroup;
    }

    /// <summary>
    /// The command that runs <paramref name="command"/> inside the cgroup: a shell moves itself in, then execs it, so
    /// the command is charged from its first page and keeps the shell's process id.
    /// </summary>
    public string[] Enter(IEnumerable<string> command) =>
        ["sh", "-c", $"echo $$ > '{Path.Combine(Folder, "cgroup.procs")}' && exec \"$@\"", "sh", .. command];

    /// <summary>Removes the cgroup. Its tasks have exited; the kernel may take a moment to let the folder go.</summary>
    public void Dispose()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(Folder);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(100);
            }
        }
    }

    // Path.Combine as the runtime does it, so that LimitFile is the very string its message holds.
    private static string Under(string mount, string path) => path.Trim('/') is { Length: > 0 } relative ? Path.Combine(mount, relative) : mount;

    private static string[] Words(string file) =>
        File.Exists(file) ? File.ReadAllText(file).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : [];

    private static bool TryWrite(string file, string value, out string error)
    {
        try
        {
            File.WriteAllText(file, value);
            error = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"writing {value} to {file}: {e.Message}";
            return false;
        }
    }

    private long ReadNumber(string file) => long.Parse(File.ReadAllText(Path.Combine(Folder, file)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>The value of <paramref name="key"/> in a file of "key value" lines (memory.events, memory.oom_control).</summary>
    private long ReadKey(string file, string key) =>
        File.ReadLines(Path.Combine(Folder, file)).Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == key)
            .Select(p => long.Parse(p[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).First();
}
