namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 1. What fetching the archive's bytes costs at all: parallel ranged GETs (or preads) of the whole archive, with the
/// runtime's range size and number in flight, each range read into a reused buffer and dropped.
/// </summary>
internal sealed class NetworkFloor(BenchmarkArchive archive, SourceKind source) : LoadMethod
{
    public override async Task RunAsync()
    {
        using var reader = ArchiveReader.Open(source, archive);
        var read = await reader.ReadAllRangesAsync(archive.Length).ConfigureAwait(false);
        if (read != archive.Length)
        {
            throw new InvalidDataException($"Read {read} bytes of a {archive.Length}-byte archive.");
        }
    }
}
