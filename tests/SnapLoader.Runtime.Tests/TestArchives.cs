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

    public static string Sha256OfFile(string path) => Sha256Hex.OfFile(path);

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

    public static void DisposeAll(IReadOnlyList<LoadedFile> files)
    {
        foreach (var file in files)
        {
            file.Dispose();
        }
    }
}
