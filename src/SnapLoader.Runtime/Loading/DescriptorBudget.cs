namespace SnapLoader.Runtime;

/// <summary>
/// Checks, before anything is fetched, that the files to load fit the process's limit of open descriptors
/// (RLIMIT_NOFILE). Every memory file stays open for the life of the function: with the preload shim, as the shim's
/// duplicate for each registered path (and moved folder), which the runtime uses too; without it, as the runtime's own. A load that runs out partway fails registration with
/// EMFILE, or worse, completes with too few descriptors left for the runtime itself, which then dies loading an assembly
/// or opening the Runtime API's socket with no error a user can act on. Lambda's limit is 1,024 and cannot be raised.
/// </summary>
internal static class DescriptorBudget
{
    /// <summary>
    /// Descriptors kept for what opens after the check: the S3 client's connections (one per range in flight, up to
    /// twice the cores: 12 on Lambda's 6 vCPUs) and the socket engine's epoll and eventfd, the Runtime API's connection,
    /// the files the dynamic loader and the runtime open while they map libraries and assemblies, the folders the farm
    /// is built through, and the function's own files and connections at init. A small dotnet8 function holds about
    /// 100 before the load (counted, not reserved); with 23 left after the load it still ran, with 0 it did not: 64 is
    /// that margin with room for the function's own.
    /// </summary>
    public const int ReserveDescriptors = 64;

    /// <summary>Lambda's RLIMIT_NOFILE, soft and hard alike.</summary>
    public const long LambdaLimit = 1024;

    /// <summary>
    /// Checks the load of <paramref name="memoryFiles"/> memory files for <paramref name="paths"/> paths (and
    /// <paramref name="folders"/> folders that may be moved) against this process's soft limit and what it holds now.
    /// </summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.TooManyDescriptors"/>.</exception>
    public static void Check(string archive, int memoryFiles, int paths, int folders) =>
        Check(archive, memoryFiles, paths, folders, PreloadShim.IsPreloaded, SoftLimit(), OpenNow());

    /// <summary>Checks against <paramref name="softLimit"/> (<see langword="null"/>: no limit, no check).</summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.TooManyDescriptors"/>.</exception>
    public static void Check(string archive, int memoryFiles, int paths, int folders, bool shim, long? softLimit, int openNow)
    {
        if (softLimit is not { } limit || memoryFiles == 0)
        {
            return;
        }
        // With the shim, each registration holds a duplicate and the runtime then gives its own memory file's
        // descriptor back, one at a time: the most held at once is one per path and folder, plus the one in hand.
        var needed = shim ? Math.Max(memoryFiles, (long)paths + folders) + 1 : memoryFiles;
        var total = needed + openNow + ReserveDescriptors;
        if (total <= limit)
        {
            return;
        }
        var perFile = shim
            ? $"{paths:N0} paths x 1 (the preload shim's descriptor, which the runtime uses too)" +
              (folders > 0 ? $" + {folders:N0} moved folders" : "") + " + 1 while one is registered"
            : $"{memoryFiles:N0} memory files x 1 (no preload shim)";
        var fits = Math.Max(0, limit - openNow - ReserveDescriptors - (shim ? 1 + folders : 0));
        throw new SnapLoaderException(RuntimeErrorCodes.TooManyDescriptors,
            $"The {paths:N0} files to load from {archive} need {needed:N0} file descriptors ({perFile}); the process holds {openNow:N0} now and " +
            $"{ReserveDescriptors} are kept for the runtime's sockets, the S3 client and the function's own files: {total:N0}, but RLIMIT_NOFILE " +
            $"allows {limit:N0} (soft limit), about {fits:N0} files. Lambda's limit of {LambdaLimit:N0} descriptors is fixed: it cannot be raised " +
            "with ulimit or any setting. Move fewer, larger files: pack many small data files into one (a zip or tar the function reads itself), " +
            "or leave some in the deployment with SnapLoaderExclude. Nothing was loaded.");
    }

    /// <summary>RLIMIT_NOFILE's soft limit; <see langword="null"/> when unlimited or unknown.</summary>
    public static long? SoftLimit()
    {
        if (LibC.GetRLimit(LibC.RLIMIT_NOFILE, out var limit) != 0 || limit.Current == LibC.RLIM_INFINITY || limit.Current > long.MaxValue)
        {
            return null;
        }
        return (long)limit.Current;
    }

    /// <summary>The descriptors this process holds, from /proc/self/fd; 0 when it cannot be read.</summary>
    public static int OpenNow()
    {
        try
        {
            // Listing the folder opens one descriptor of its own, which is listed too and closed again.
            return Math.Max(0, Directory.GetFileSystemEntries("/proc/self/fd").Length - 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The folders of <paramref name="relativePaths"/> and their parents: the most the shim can be given for moved folders.</summary>
    public static int Folders(IEnumerable<string> relativePaths) => relativePaths
        .SelectMany(p => Enumerable.Range(0, p.Length).Where(i => p[i] == '/' && i > 0).Select(i => p[..i]))
        .Distinct(StringComparer.Ordinal)
        .Count();
}
