using System.IO.Compression;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>Makes the archives the tests load, and checks what the loader leaves behind.</summary>
internal static class TestArchives
{
    /// <summary>
    /// Packs files with the build's own writer and returns the archive with the manifest records it implies, one per
    /// input: an input identical to an earlier one names that one's entry, as the generated bootstrap does.
    /// </summary>
    public static (string Archive, MovedFile[] Files) Pack(string folder, ArchiveCompression compression, params (string EntryName, string Source, MovedFileKind Kind)[] inputs)
    {
        var archive = Path.Combine(folder, $"archive-{compression}.zip");
        var packed = ArchiveWriter.Write(archive, inputs.Select(i => new ArchiveInput(i.EntryName, i.Source)).ToArray(), compression, 0, 0, null, CancellationToken.None);
        var entryOf = packed.EntryOfEachInput();
        var files = inputs.Select(i => entryOf[i.EntryName] is var e && e.EntryName == i.EntryName
            ? new MovedFile(i.EntryName, e.Size, e.Sha256, i.Kind)
            : new MovedFile(i.EntryName, e.Size, e.Sha256, i.Kind, entry: e.EntryName)).ToArray();
        return (packed.Path, files);
    }

    /// <summary>The memory files this process has open, as <c>fd -> /memfd:name</c>.</summary>
    public static IReadOnlyList<string> OpenMemfds()
    {
        var result = new List<string>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("/memfd:", StringComparison.Ordinal))
                {
                    result.Add($"{Path.GetFileName(fd)} -> {target}");
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we listed them.
            }
        }
        return result;
    }

    /// <summary>Writes <paramref name="length"/> bytes that compress about 2:1 (values 0-15), the same for the same seed.</summary>
    public static void WriteCompressible(string path, long length, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        using var file = File.Create(path);
        for (long done = 0; done < length; done += buffer.Length)
        {
            random.NextBytes(buffer);
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] &= 0x0F;
            }
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, length - done));
        }
    }

    /// <summary>Runs a Python script (zipfile makes the odd archives other tools refuse to make).</summary>
    public static void Python(string script, string workingDirectory, params string[] arguments)
    {
        ProcessRunner.Run("python3", new[] { "-c", script }.Concat(arguments), workingDirectory).EnsureSuccess("python3");
    }

    /// <summary>
    /// Writes <paramref name="archive"/> with Python's zipfile (deflate) through a stream it cannot seek, which makes it
    /// put each entry's sizes in a data descriptor after the data and zeros in the local header.
    /// <paramref name="writes"/> are Python statements on <c>z</c>, the ZipFile; <c>sys.argv[2]</c> on are
    /// <paramref name="arguments"/>.
    /// </summary>
    public static void PythonStreamedZip(string archive, string writes, string workingDirectory, params string[] arguments)
    {
        var indented = string.Join("\n", writes.Split('\n').Select(line => "        " + line));
        Python($"""
            import sys, zipfile
            class Unseekable:
                def __init__(self, f): self.f = f
                def write(self, b): return self.f.write(b)
                def flush(self): self.f.flush()
            with open(sys.argv[1], 'wb') as raw:
                with zipfile.ZipFile(Unseekable(raw), 'w', zipfile.ZIP_DEFLATED) as z:
            {indented}
            """, workingDirectory, [archive, .. arguments]);
    }

    /// <summary>
    /// Writes a ZIP with System.IO.Compression's writer: one entry of <paramref name="length"/> zero bytes, at
    /// <paramref name="level"/> or the writer's default.
    /// </summary>
    public static void DotNetZipOfZeros(string archive, string entryName, int length, CompressionLevel? level = null)
    {
        using var zip = ZipFile.Open(archive, ZipArchiveMode.Create);
        using var entry = (level is { } given ? zip.CreateEntry(entryName, given) : zip.CreateEntry(entryName)).Open();
        entry.Write(new byte[length]);
    }

    public static void DisposeAll(IReadOnlyList<LoadedFile> files)
    {
        foreach (var file in files)
        {
            file.Dispose();
        }
    }
}
