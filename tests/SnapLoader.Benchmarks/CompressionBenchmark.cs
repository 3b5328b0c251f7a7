using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;
using ZstdSharp;

namespace SnapLoader.Benchmarks;

/// <summary>
/// The measurements behind docs/compression.md: pack time, size and single-thread decode speed of each
/// compression choice, on the real payloads, in one run. Every archive written is decoded and checked, so a
/// broken archive fails the run instead of reporting numbers.
/// </summary>
internal static class CompressionBenchmark
{
    private const double DownloadBytesPerSecond = 75.0 * 1024 * 1024;

    private static readonly (ArchiveCompression Compression, int Level, string Label)[] s_configs =
    [
        (ArchiveCompression.Stored, 0, "stored"),
        (ArchiveCompression.Deflate, 1, "deflate Fastest"),
        (ArchiveCompression.Deflate, 6, "deflate Optimal"),
        (ArchiveCompression.Deflate, 9, "deflate SmallestSize"),
        (ArchiveCompression.Zstd, 3, "zstd 3"),
        (ArchiveCompression.Zstd, 6, "zstd 6"),
        (ArchiveCompression.Zstd, 9, "zstd 9"),
        (ArchiveCompression.Zstd, 12, "zstd 12"),
        (ArchiveCompression.Zstd, 19, "zstd 19"),
    ];

    /// <summary>Runs the configurations named in <paramref name="only"/> (for example "zstd:3,deflate:6"), or all.</summary>
    public static string Run(string? only, Action<string> progress)
    {
        var configs = s_configs.ToList();
        if (!string.IsNullOrEmpty(only))
        {
            var wanted = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            configs = configs.Where(c => wanted.Contains($"{c.Compression.ToString().ToLowerInvariant()}:{c.Level}")).ToList();
        }

        var payloads = new (string Name, ArchiveInput[] Inputs)[]
        {
            ("libtorch_cpu.so", [new("libtorch_cpu.so", Path.Combine(TestPaths.LibTorchNativeFolder, "libtorch_cpu.so"))]),
            ("libonnxruntime.so + ResNet18.onnx", [new("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary()), new("ResNet18.onnx", TestPaths.ResNet18Model)]),
        };

        var folder = TestPaths.NewTempFolder("benchmark");
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; maxParallelism = {Environment.ProcessorCount}.");
        table.AppendLine();
        table.AppendLine("| Payload | Compression | Pack (s) | Archive (MB) | Ratio | Decode, 1 thread (MB/s) | Download at 75 MiB/s (s) | Decode, 1 thread (s) | Left uncompressed |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        try
        {
            foreach (var (payloadName, inputs) in payloads)
            {
                foreach (var (compression, level, label) in configs)
                {
                    var destination = Path.Combine(folder, "bench.zip");
                    var clock = Stopwatch.StartNew();
                    var archive = ArchiveWriter.Write(destination, inputs, compression, level, Environment.ProcessorCount, null, CancellationToken.None);
                    var packSeconds = clock.Elapsed.TotalSeconds;

                    var original = archive.Entries.Sum(e => e.Size);
                    var decodeSeconds = archive.Entries.Sum(e => DecodeSeconds(archive.Path, e));
                    // Rate over the entries that were compressed: one that did not shrink was stored and costs no decoding.
                    var decoded = archive.Entries.Where(e => e.Method != 0).Sum(e => e.Size);
                    var decodeRate = decoded == 0 ? "-" : Format(decoded / 1e6 / decodeSeconds, "F0");
                    var row = $"| {payloadName} | {label} | {Format(packSeconds, "F1")} | {Format(archive.Length / 1e6, "F1")} | {Format((double)original / archive.Length, "F2")} | {decodeRate} | {Format(archive.Length / DownloadBytesPerSecond, "F2")} | {(decoded == 0 ? "-" : Format(decodeSeconds, "F2"))} | {StoredNames(archive, compression)} |";
                    table.AppendLine(row);
                    progress(row);
                    File.Delete(destination);
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        return table.ToString();
    }

    // Best of three single-threaded decodes of one entry from memory into a reused buffer, the way the runtime
    // streams an entry into its memory file; the download is not part of it. Then the CRC is checked.
    private static double DecodeSeconds(string archivePath, ArchiveEntry entry)
    {
        if (entry.Method == 0)
        {
            return 0;
        }
        var compressed = new byte[entry.CompressedSize];
        using (var file = File.OpenRead(archivePath))
        {
            file.Seek(entry.DataOffset, SeekOrigin.Begin);
            file.ReadExactly(compressed);
        }
        var buffer = new byte[1 << 20];
        var best = double.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            var (length, _) = Decode(compressed, entry.Method, buffer, checkCrc: false);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
            Check(length == entry.Size, $"{entry.EntryName}: decoded {length} bytes, expected {entry.Size}");
        }
        Check(Decode(compressed, entry.Method, buffer, checkCrc: true).Crc == entry.Crc32, $"{entry.EntryName}: CRC mismatch");
        return best;
    }

    private static (long Length, uint Crc) Decode(byte[] compressed, ushort method, byte[] buffer, bool checkCrc)
    {
        using var input = new MemoryStream(compressed, writable: false);
        using Stream decoder = method == 93 ? new DecompressionStream(input) : new DeflateStream(input, CompressionMode.Decompress);
        long total = 0;
        var crc = new System.IO.Hashing.Crc32();
        int read;
        while ((read = decoder.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
            if (checkCrc)
            {
                crc.Append(buffer.AsSpan(0, read));
            }
        }
        return (total, crc.GetCurrentHashAsUInt32());
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidDataException(message);
        }
    }

    // Entries the writer stored because they did not shrink.
    private static string StoredNames(PackedArchive archive, ArchiveCompression compression) =>
        compression == ArchiveCompression.Stored || archive.Entries.All(e => e.Method != 0)
            ? "-"
            : string.Join(", ", archive.Entries.Where(e => e.Method == 0).Select(e => e.EntryName));

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
