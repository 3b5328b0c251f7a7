using SnapLoader.Runtime;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 2. What putting the payload into memory files costs at all: the original files, read into arrays before the clock
/// starts, written into memfds in 16 MiB pieces on every core, then sealed. No source, no decoding, no hashing.
/// </summary>
internal sealed class MemoryFloor(BenchmarkArchive archive) : LoadMethod
{
    private const int PieceSize = 16 << 20;

    private readonly List<MemoryFile> _files = [];
    private byte[][] _contents = [];

    public override void Prepare() => _contents = archive.Entries.Select(e => File.ReadAllBytes(e.SourcePath)).ToArray();

    public override Task RunAsync()
    {
        var pieces = new List<(MemoryFile File, byte[] Content, int Offset)>();
        for (var i = 0; i < archive.Entries.Count; i++)
        {
            var file = MemoryFile.Create(archive.Entries[i].Name, _contents[i].Length);
            _files.Add(file);
            for (var offset = 0; offset < _contents[i].Length; offset += PieceSize)
            {
                pieces.Add((file, _contents[i], offset));
            }
        }
        Parallel.ForEach(pieces, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            piece => piece.File.Write(piece.Offset, piece.Content.AsSpan(piece.Offset, Math.Min(PieceSize, piece.Content.Length - piece.Offset))));
        foreach (var file in _files)
        {
            file.Seal();
        }
        return Task.CompletedTask;
    }
}
