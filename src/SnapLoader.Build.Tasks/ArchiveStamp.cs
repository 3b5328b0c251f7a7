using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SnapLoader.Build.Tasks.Archive;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Remembers what the last pack produced, so that a publish with unchanged files neither reads nor hashes
/// hundreds of megabytes again.
/// </summary>
internal static class ArchiveStamp
{
    // Bumped whenever the archive layout changes, so an old stamp never stands for a new format.
    // 2: zstd entries over 32 MiB are frames with a seek table. 3: identical files are stored once (PackedArchive.Duplicates).
    private const int FormatVersion = 3;

    /// <summary>A hash of everything that decides the archive's bytes, cheap to compute (no file content is read).</summary>
    public static string Fingerprint(IEnumerable<ArchiveInput> inputs, ArchiveCompression compression, int level)
    {
        var text = new StringBuilder().Append(FormatVersion).Append('|').Append(compression).Append('|').Append(level).Append('\n');
        foreach (var input in inputs)
        {
            var info = new FileInfo(input.SourcePath);
            text.Append(input.EntryName).Append('|').Append(input.SourcePath).Append('|')
                .Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    /// <summary>The archive the stamp describes, if the stamp matches <paramref name="fingerprint"/> and the archive is intact.</summary>
    public static PackedArchive? TryRead(string stampPath, string fingerprint, string directory)
    {
        try
        {
            if (!File.Exists(stampPath))
            {
                return null;
            }
            var stamp = JsonSerializer.Deserialize<Stamp>(File.ReadAllText(stampPath));
            if (stamp is null || stamp.Fingerprint != fingerprint)
            {
                return null;
            }
            var archive = new FileInfo(Path.Combine(directory, stamp.Archive.Sha256 + ".zip"));
            return archive.Exists && archive.Length == stamp.Archive.Length ? stamp.Archive with { Path = archive.FullName } : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            // A damaged stamp only costs a repack.
            return null;
        }
    }

    /// <summary>Records what was packed.</summary>
    public static void Write(string stampPath, string fingerprint, PackedArchive archive) =>
        AtomicFile.WriteAllText(stampPath, JsonSerializer.Serialize(new Stamp(fingerprint, archive)));

    private sealed record Stamp(string Fingerprint, PackedArchive Archive);
}
