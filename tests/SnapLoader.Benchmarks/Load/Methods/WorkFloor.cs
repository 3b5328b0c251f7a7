using System.Buffers;
using System.Security.Cryptography;
using SnapLoader.Runtime;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 0. The work a verified load cannot avoid, and nothing else: every entry decoded (frame by frame, with the baselines'
/// decoder, the one the runtime chooses), written into a memfd, and its SHA-256 computed, on every core at once, from
/// the archive's bytes in memory (no I/O, no ranges, no pipeline to fill) and warm (the same work runs once untimed
/// first, so the code is optimised and libzstd is loaded). Frames decode in parallel, largest entries first, and each entry's hash follows its
/// frames in order as they are decoded, from the decoded bytes (SnapLoader reads them back from the memfd).
/// </summary>
internal sealed class WorkFloor(BenchmarkArchive archive) : LoadMethod
{
    private byte[] _archive = [];
    private readonly List<(BenchmarkEntry Entry, IReadOnlyList<ZstdFrame> Frames)> _entries = [];
    private List<MemoryFile> _files = [];

    public override void Prepare()
    {
        _archive = File.ReadAllBytes(archive.Path);
        var source = LocalFileArchiveSource.Open(archive.Path);
        try
        {
            var directory = ZipDirectory.ReadAsync(source, CancellationToken.None).GetAwaiter().GetResult();
            foreach (var entry in archive.Entries.OrderByDescending(e => e.CompressedSize))
            {
                var record = directory.Entries.Single(e => e.Name == entry.Name);
                var frames = entry.Method == ZipFormat.MethodZstd
                    ? ZstdFrameIndex.ReadAsync(source, directory, record, entry.DataOffset, "the benchmark", CancellationToken.None).GetAwaiter().GetResult()
                    : null;
                // An entry without a seek table is one unit: the whole of its compressed data.
                _entries.Add((entry, frames ?? [new ZstdFrame(0, checked((int)entry.CompressedSize), 0, checked((int)entry.Size))]));
            }
        }
        finally
        {
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        foreach (var file in Run())
        {
            file.Dispose();
        }
    }

    public override Task RunAsync()
    {
        _files = Run();
        return Task.CompletedTask;
    }

    private List<MemoryFile> Run()
    {
        var files = _entries.Select(e => MemoryFile.Create(e.Entry.Name, e.Entry.Size)).ToList();
        var decoded = _entries.Select(e => e.Frames.Select(_ => new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray()).ToList();
        var hashers = _entries.Select((e, i) => Task.Run(async () =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (var f = 0; f < e.Frames.Count; f++)
            {
                var bytes = await decoded[i][f].Task.ConfigureAwait(false);
                sha.AppendData(bytes, 0, e.Frames[f].DecompressedSize);
                ArrayPool<byte>.Shared.Return(bytes);
            }
            if (Convert.ToHexStringLower(sha.GetHashAndReset()) != e.Entry.Sha256)
            {
                throw new InvalidDataException($"{e.Entry.Name}: SHA-256 mismatch.");
            }
        })).ToArray();
        var units = _entries.SelectMany((e, i) => e.Frames.Select((frame, f) => (Entry: i, Frame: f))).ToList();
        Parallel.ForEach(units, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, unit =>
        {
            var (entry, frames) = _entries[unit.Entry];
            var frame = frames[unit.Frame];
            var bytes = ArrayPool<byte>.Shared.Rent(frame.DecompressedSize);
            using (var compressed = new MemoryStream(_archive, checked((int)(entry.DataOffset + frame.CompressedOffset)), frame.CompressedSize, writable: false))
            using (var decoder = EntryDecoder.Decoded(compressed, entry))
            {
                decoder.ReadExactly(bytes, 0, frame.DecompressedSize);
            }
            files[unit.Entry].Write(frame.DecompressedOffset, bytes.AsSpan(0, frame.DecompressedSize));
            decoded[unit.Entry][unit.Frame].SetResult(bytes);
        });
        Task.WaitAll(hashers);
        foreach (var file in files)
        {
            file.Seal();
        }
        return files;
    }

    public override void CleanUp()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }
}
