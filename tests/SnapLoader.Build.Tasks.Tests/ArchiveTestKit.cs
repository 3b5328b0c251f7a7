using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;
using ZstdSharp;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// What the archive tests share: test files, raw reads of entries by their local header, and running
/// the external readers (unzip, python3).
/// </summary>
internal static class ArchiveTestKit
{
    private static readonly string[] s_words =
    [
        "ELF", "text", "data", "symbol", "onnx", "tensor", "layer", "weight", "bias", "conv", "relu", "pool",
        "\0\0\0\0", "\u0001\u0002", "lambda", "snap", "memfd", "dlopen", "libc.so.6", "GLIBC_2.17",
    ];

    /// <summary>A new folder for one test, removed by <see cref="DeleteFolder"/>.</summary>
    public static string NewFolder(string prefix) => TestPaths.NewTempFolder($"archive-{prefix}");

    public static void DeleteFolder(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Writes <paramref name="length"/> bytes that compress about as well as a shared library.</summary>
    public static string CompressibleFile(string folder, string name, int length, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[length];
        var position = 0;
        while (position < length)
        {
            var word = s_words[random.Next(s_words.Length)];
            for (var i = 0; i < word.Length && position < length; i++)
            {
                bytes[position++] = (byte)word[i];
            }
            if (position < length && random.Next(4) == 0)
            {
                bytes[position++] = (byte)random.Next(256);
            }
        }
        return WriteFile(folder, name, bytes);
    }

    /// <summary>Writes bytes no compressor can shrink.</summary>
    public static string RandomFile(string folder, string name, int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return WriteFile(folder, name, bytes);
    }

    public static string WriteFile(string folder, string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>
    /// Opens the data of <paramref name="entry"/> the way the runtime does: parse the local header at
    /// LocalHeaderOffset, skip its name and extra field, and read CompressedSize bytes from there.
    /// Checks the header agrees with the entry on the way.
    /// </summary>
    public static Stream OpenRawData(string archivePath, ArchiveEntry entry)
    {
        var file = File.OpenRead(archivePath);
        try
        {
            var header = ZipLocalHeader.Read(file, entry.LocalHeaderOffset);
            Assert.AreEqual(entry.Method, header.Method, $"method of {entry.EntryName}");
            Assert.AreEqual(entry.Crc32, header.Crc32, $"CRC of {entry.EntryName}");
            Assert.AreEqual(entry.DataOffset, header.DataOffset, $"data offset of {entry.EntryName}");
            file.Position = header.DataOffset;
            return new WindowStream(file, entry.CompressedSize, leaveOpen: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Decodes a zstd entry with ZstdSharp from its raw data and returns the original bytes.</summary>
    public static byte[] DecodeZstdEntry(string archivePath, ArchiveEntry entry)
    {
        Assert.AreEqual((ushort)93, entry.Method, $"{entry.EntryName} is not zstd");
        using var raw = OpenRawData(archivePath, entry);
        var frame = new byte[entry.CompressedSize];
        raw.ReadExactly(frame);
        // The frame must carry its content size, so the runtime can size the memory file up front.
        Assert.AreEqual((ulong)entry.Size, Decompressor.GetDecompressedSize(frame), $"content size in the frame of {entry.EntryName}");
        using var decompressor = new Decompressor();
        return decompressor.Unwrap(frame, checked((int)entry.Size)).ToArray();
    }

    /// <summary>Runs a tool; marks the test inconclusive only when the tool is not installed.</summary>
    public static (int ExitCode, string Output, string Error) Run(string tool, params string[] arguments)
    {
        if (TestPaths.FindOnPath(tool) is null)
        {
            Assert.Inconclusive($"{tool} is not installed.");
        }
        var result = ProcessRunner.Run(tool, arguments, Path.GetTempPath(), new Dictionary<string, string?> { ["PYTHONIOENCODING"] = "utf-8" }, TimeSpan.FromMinutes(2));
        return (result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>
    /// Python's zipfile view of an archive, one line per entry:
    /// name, file_size, compress_size, compress_type, CRC, header_offset, separated by tabs.
    /// With <paramref name="test"/>, a last line "testzip: OK" or the first bad entry's name.
    /// </summary>
    public static string[] PythonList(string archivePath, bool test)
    {
        const string script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                for i in z.infolist():
                    print("\t".join(str(v) for v in (i.filename, i.file_size, i.compress_size, i.compress_type, i.CRC, i.header_offset)))
                if sys.argv[2] == "test":
                    bad = z.testzip()
                    print("testzip: " + ("OK" if bad is None else "BAD " + bad))
            """;
        var (exitCode, output, error) = Run("python3", "-c", script, archivePath, test ? "test" : "list");
        Assert.AreEqual(0, exitCode, $"python3 zipfile failed: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Checks Python lists exactly <paramref name="archive"/>'s entries, with the same numbers.</summary>
    public static void AssertPythonAgrees(PackedArchive archive, bool test)
    {
        var lines = PythonList(archive.Path, test);
        Assert.AreEqual(archive.Entries.Count + (test ? 1 : 0), lines.Length, string.Join("\n", lines));
        for (var i = 0; i < archive.Entries.Count; i++)
        {
            var e = archive.Entries[i];
            Assert.AreEqual($"{e.EntryName}\t{e.Size}\t{e.CompressedSize}\t{e.Method}\t{e.Crc32}\t{e.LocalHeaderOffset}", lines[i]);
        }
        if (test)
        {
            Assert.AreEqual("testzip: OK", lines[^1]);
        }
    }

    /// <summary>Checks <c>unzip -l</c> lists every entry with its size, and the right count.</summary>
    public static void AssertUnzipLists(PackedArchive archive)
    {
        var (exitCode, output, error) = Run("unzip", "-l", archive.Path);
        Assert.AreEqual(0, exitCode, $"unzip -l failed: {error}\n{output}");
        foreach (var entry in archive.Entries)
        {
            var line = output.Split('\n').FirstOrDefault(l => l.TrimEnd().EndsWith("   " + entry.EntryName, StringComparison.Ordinal));
            Assert.IsNotNull(line, $"unzip -l does not list {entry.EntryName}:\n{output}");
            Assert.AreEqual(entry.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Trim().Split(' ')[0], line);
        }
        var count = archive.Entries.Count == 1 ? "1 file" : $"{archive.Entries.Count} files";
        Assert.IsTrue(output.TrimEnd().EndsWith(count, StringComparison.Ordinal), output);
    }
}
