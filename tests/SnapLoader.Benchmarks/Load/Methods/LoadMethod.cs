namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// One way of bringing an archive's files into memory. A child process prepares it (not timed), runs it once under the
/// clock and the memory probe, then cleans up (not timed). Whatever it created stays open until the process exits, so
/// the last memory sample still sees it.
/// </summary>
internal abstract class LoadMethod
{
    /// <summary>Every method, in the order of the table and the chart.</summary>
    public static readonly IReadOnlyList<string> Ids = ["work-floor", "network-floor", "memory-floor", "snaploader", "snaploader-dlopen", "snaploader-managed", "whole-object", "tmp"];

    public static LoadMethod Create(string id, BenchmarkArchive archive, SourceKind source) => id switch
    {
        "work-floor" => new WorkFloor(archive),
        "network-floor" => new NetworkFloor(archive, source),
        "memory-floor" => new MemoryFloor(archive),
        "snaploader" => new SnapLoaderLoad(archive, source, loadLibraries: false),
        "snaploader-dlopen" => new SnapLoaderLoad(archive, source, loadLibraries: true),
        "snaploader-managed" => new SnapLoaderLoad(archive, source, loadLibraries: false, managedZstd: true),
        "whole-object" => new WholeObjectBaseline(archive, source),
        "tmp" => new TmpBaseline(archive, source),
        _ => throw new ArgumentException($"Unknown method '{id}'; known: {string.Join(", ", Ids)}.", nameof(id)),
    };

    /// <summary>The method's name in the table and the chart.</summary>
    public static string Label(string id) => id switch
    {
        "work-floor" => "0. Work floor",
        "network-floor" => "1. Network floor",
        "memory-floor" => "2. Memory floor",
        "snaploader" => "3. SnapLoader",
        "snaploader-dlopen" => "3b. SnapLoader + dlopen",
        "snaploader-managed" => "3c. SnapLoader, ZstdSharp",
        "whole-object" => "4. Whole object",
        "tmp" => "5. /tmp",
        _ => id,
    };

    public virtual void Prepare()
    {
    }

    public abstract Task RunAsync();

    public virtual void CleanUp()
    {
    }
}
