using SnapLoader.Runtime;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 4. The Python predecessor's method: one GET of the whole object into memory, every entry extracted into its own
/// array (kept in a dictionary, as it did), then each copied into a sealed memfd with the runtime's
/// <see cref="SnapLoaderRuntime.CreateMemoryFile"/>. One thread, as Python's zipfile is.
/// </summary>
internal sealed class WholeObjectBaseline(BenchmarkArchive archive, SourceKind source) : LoadMethod
{
    public override async Task RunAsync()
    {
        byte[] whole;
        using (var reader = ArchiveReader.Open(source, archive))
        {
            whole = await reader.ReadWholeAsync().ConfigureAwait(false);
        }
        var files = archive.Entries.ToDictionary(e => e.Name, e => EntryDecoder.ToArray(whole, e));
        foreach (var (name, content) in files)
        {
            SnapLoaderRuntime.CreateMemoryFile(name, content);
        }
        // The predecessor holds the object and the dictionary until it returns; so does this, or the GC could free
        // them early and flatter the baseline's peak.
        GC.KeepAlive(whole);
        GC.KeepAlive(files);
    }
}
