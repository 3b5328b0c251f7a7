using System.Text.Json;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Runtime;

namespace SnapLoader.Benchmarks.Load;

/// <summary>One entry of a benchmark archive, with where its data starts and where its original file is.</summary>
internal sealed record BenchmarkEntry(
    string Name, long Size, long CompressedSize, ushort Method, long DataOffset, string Sha256, uint Crc32,
    string SourcePath, MovedFileKind Kind, string? Soname);

/// <summary>
/// The archive every method of one payload reads, written by the build's own <see cref="ArchiveWriter"/> so that the
/// runtime reads exactly what a publish writes. The parent writes it once with a JSON description beside it; each child
/// process reads the description, so that the baselines need no ZIP reader of their own (finding four entries in a
/// central directory costs nothing next to moving hundreds of megabytes).
/// </summary>
internal sealed record BenchmarkArchive(string PayloadId, string Path, string Sha256, long Length, IReadOnlyList<BenchmarkEntry> Entries)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>Bytes of all files once unpacked: what ends up in memory files.</summary>
    public long PayloadBytes => Entries.Sum(e => e.Size);

    /// <summary>The object key in the benchmark bucket.</summary>
    public string Key => System.IO.Path.GetFileName(Path);

    /// <summary>Packs <paramref name="payload"/> with the build's default compression (zstd level 3) into <paramref name="folder"/>.</summary>
    public static BenchmarkArchive Pack(Payload payload, string folder)
    {
        var destination = System.IO.Path.Combine(folder, $"{payload.Id}.zip");
        var packed = ArchiveWriter.Write(destination, payload.Files.Select(f => new ArchiveInput(f.EntryName, f.SourcePath)).ToList(),
            ArchiveCompression.Zstd, level: 0, maxParallelism: 0, progress: null, CancellationToken.None);
        var entries = packed.Entries.Zip(payload.Files, (e, f) =>
            new BenchmarkEntry(e.EntryName, e.Size, e.CompressedSize, e.Method, e.DataOffset, e.Sha256, e.Crc32, f.SourcePath, f.Kind, f.Soname)).ToList();
        var archive = new BenchmarkArchive(payload.Id, packed.Path, packed.Sha256, packed.Length, entries);
        File.WriteAllText(DescriptionPath(packed.Path), JsonSerializer.Serialize(archive, s_json));
        return archive;
    }

    /// <summary>Reads the description the parent wrote beside the archive.</summary>
    public static BenchmarkArchive Read(string archivePath) =>
        JsonSerializer.Deserialize<BenchmarkArchive>(File.ReadAllText(DescriptionPath(archivePath)))
        ?? throw new InvalidDataException($"{DescriptionPath(archivePath)} is empty.");

    private static string DescriptionPath(string archivePath) => archivePath + ".json";
}
