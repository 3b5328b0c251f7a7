namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 5. What most functions do today: download the object to /tmp in one GET, then extract every entry to /tmp, one
/// after the other (as unzip would, with its CRC check). The files land in the page cache; nothing waits for the disk.
/// </summary>
internal sealed class TmpBaseline(BenchmarkArchive archive, SourceKind source) : LoadMethod
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "snaploader-benchmark-tmp", Guid.NewGuid().ToString("N"));

    public override async Task RunAsync()
    {
        Directory.CreateDirectory(_folder);
        var downloaded = Path.Combine(_folder, archive.Key);
        using (var reader = ArchiveReader.Open(source, archive))
        {
            await reader.DownloadToAsync(downloaded).ConfigureAwait(false);
        }
        foreach (var entry in archive.Entries)
        {
            EntryDecoder.ToFile(downloaded, entry, Path.Combine(_folder, "task", entry.Name));
        }
    }

    public override void CleanUp() => Directory.Delete(_folder, recursive: true);
}
