using System.IO.Compression;
using SnapLoader.Runtime;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// How the baselines unpack an entry: one thread, the decoder the runtime chooses (the system's libzstd where it is
/// installed), and the CRC-32 check that Python's zipfile and unzip make on every entry (the predecessor relied on it;
/// it had no other integrity check).
/// </summary>
internal static class EntryDecoder
{
    // Opened at first use, inside the timed method as SnapLoader's is; kept for the child's life.
    private static readonly Lazy<ZstdDecoders> s_zstd = new(() => ZstdDecoders.Open());

    private const ushort Stored = 0;
    private const ushort Deflate = 8;
    private const ushort Zstd = 93;

    /// <summary>The entry's content in a new array, from the whole archive in memory.</summary>
    public static byte[] ToArray(byte[] archive, BenchmarkEntry entry)
    {
        var content = new byte[entry.Size];
        using (var compressed = new MemoryStream(archive, checked((int)entry.DataOffset), checked((int)entry.CompressedSize), writable: false))
        using (var decoded = Decoded(compressed, entry))
        {
            decoded.ReadExactly(content);
            Check(decoded.ReadByte() < 0, entry, "decoded to another length");
        }
        Check(Crc32.HashToUInt32(content) == entry.Crc32, entry, "CRC-32 mismatch");
        return content;
    }

    /// <summary>Streams the entry from the archive file into <paramref name="destination"/> through a 1 MiB buffer.</summary>
    public static void ToFile(string archivePath, BenchmarkEntry entry, string destination)
    {
        using var archive = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        archive.Seek(entry.DataOffset, SeekOrigin.Begin);
        using var window = new SnapLoader.Tests.WindowStream(archive, entry.CompressedSize, leaveOpen: true);
        using var content = Decoded(window, entry);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        var buffer = new byte[1 << 20];
        var crc = new Crc32();
        long total = 0;
        int read;
        while ((read = content.Read(buffer)) > 0)
        {
            crc.Append(buffer.AsSpan(0, read));
            output.Write(buffer, 0, read);
            total += read;
        }
        Check(total == entry.Size, entry, "decoded to another length");
        Check(crc.GetCurrentHashAsUInt32() == entry.Crc32, entry, "CRC-32 mismatch");
    }

    /// <summary>What <paramref name="compressed"/> (the entry's data, or one zstd frame of it) decodes to; it stays open.</summary>
    public static Stream Decoded(Stream compressed, BenchmarkEntry entry) => entry.Method switch
    {
        Stored => new SnapLoader.Tests.WindowStream(compressed, entry.CompressedSize, leaveOpen: true),
        Zstd => s_zstd.Value.Create(compressed),
        Deflate => new DeflateStream(compressed, CompressionMode.Decompress, leaveOpen: true),
        _ => throw new InvalidDataException($"{entry.Name}: compression method {entry.Method} is not supported."),
    };

    private static void Check(bool condition, BenchmarkEntry entry, string problem)
    {
        if (!condition)
        {
            throw new InvalidDataException($"{entry.Name}: {problem}.");
        }
    }
}
