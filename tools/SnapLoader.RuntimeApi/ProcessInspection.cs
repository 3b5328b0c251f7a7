namespace SnapLoader.RuntimeApi;

/// <summary>What a running process holds of memory files, read from /proc while it waits for its next event.</summary>
public static class ProcessInspection
{
    // .NET's own memory files: the executable-memory double mapping and the diagnostics IPC marker.
    private static readonly string[] s_runtimeOwn = ["doublemapper", "dotnet_ipc_created"];

    /// <summary>Names of the memory files mapped into the process (its /proc/PID/maps), .NET's own aside.</summary>
    public static string[] MemfdMappings(int pid) =>
        MemfdNames(Read(() => File.ReadLines($"/proc/{pid}/maps").ToList())
            .Select(line => line.IndexOf("/memfd:", StringComparison.Ordinal) is var at and >= 0 ? line[at..] : ""));

    /// <summary>The files on disk mapped into the process (its /proc/PID/maps): the libraries it loaded from disk.</summary>
    public static string[] MappedFiles(int pid) =>
        Read(() => File.ReadLines($"/proc/{pid}/maps").ToList())
            .Select(line => line.IndexOf(" /", StringComparison.Ordinal) is var at and >= 0 ? line[(at + 1)..] : "")
            .Where(path => path.StartsWith('/') && !path.StartsWith("/memfd:", StringComparison.Ordinal) && !path.StartsWith("/dev/", StringComparison.Ordinal))
            .Select(path => path.Replace(" (deleted)", "", StringComparison.Ordinal))
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>Names of the memory files the process has open (its /proc/PID/fd): data files too, which are read, not mapped.</summary>
    public static string[] MemfdDescriptors(int pid) =>
        MemfdNames(Read(() => Directory.GetFiles($"/proc/{pid}/fd").ToList())
            .Select(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget ?? "";
                }
                catch (IOException)
                {
                    return "";
                }
            }));

    private static string[] MemfdNames(IEnumerable<string> targets) => targets
        .Where(t => t.StartsWith("/memfd:", StringComparison.Ordinal) && !s_runtimeOwn.Any(own => t.Contains(own, StringComparison.Ordinal)))
        .Select(t => t["/memfd:".Length..].Replace(" (deleted)", "", StringComparison.Ordinal))
        .Distinct().Order(StringComparer.Ordinal).ToArray();

    // A process that ended meanwhile holds nothing.
    private static List<string> Read(Func<List<string>> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
