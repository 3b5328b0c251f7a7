using System.IO.Compression;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Writes the publish folder as a zip that Lambda accepts as it is: deflate entries, Unix modes (0755 for the exec
/// wrapper and for files executable on disk, 0644 for the rest), entries in ordinal order with one fixed timestamp,
/// so the same publish gives the same bytes (and the same CodeSha256).
/// </summary>
/// <remarks>
/// The zip a Windows tool makes carries no Unix modes, and Lambda then unpacks the wrapper without its execute bit:
/// the runtime fails with exit code 126. System.IO.Compression writes the modes when given them, so no ZIP code is
/// written by hand here.
/// </remarks>
public sealed class WriteDeploymentZip : SnapLoaderTask
{
    private static readonly DateTimeOffset s_timestamp = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The publish folder.</summary>
    [Required]
    public string PublishDirectory { get; set; } = "";

    /// <summary>The zip to write; replaced only once complete.</summary>
    [Required]
    public string ZipPath { get; set; } = "";

    /// <summary>Publish-relative paths that get mode 0755 whatever the disk says (the exec wrapper; Windows has no modes).</summary>
    public string[] ExecutableFiles { get; set; } = [];

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var root = Path.GetFullPath(PublishDirectory);
        var destination = Path.GetFullPath(ZipPath);
        var executables = new HashSet<string>(ExecutableFiles.Select(PublishPaths.Normalize), StringComparer.Ordinal);
        var files = new List<(string FullPath, string EntryName)>();
        try
        {
            files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => f != destination)
                .Select(f => (FullPath: f, EntryName: Path.GetRelativePath(root, f).Replace('\\', '/')))
                .OrderBy(f => f.EntryName, StringComparer.Ordinal)
                .ToList();
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            AtomicFile.Write(destination, temporary =>
            {
                using var zip = new ZipArchive(new FileStream(temporary, FileMode.CreateNew, FileAccess.Write), ZipArchiveMode.Create);
                foreach (var (fullPath, entryName) in files)
                {
                    var entry = zip.CreateEntry(entryName, CompressionLevel.Optimal);
                    entry.LastWriteTime = s_timestamp;
                    // The high 16 bits are st_mode: a regular file (S_IFREG) with its permission bits.
                    var executable = executables.Contains(entryName) || IsExecutableOnDisk(fullPath);
                    entry.ExternalAttributes = (int)((0x8000u | (executable ? 0b111_101_101u : 0b110_100_100u)) << 16);
                    using var source = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
                    using var target = entry.Open();
                    source.CopyTo(target);
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapLoaderBuildException(ErrorCodes.DeploymentZipFailed,
                $"Could not write the deployment zip '{destination}' from '{root}': {e.Message} Check the disk space and the permissions of its folder.", destination, e);
        }
        LogHigh($"  deployment zip: {destination} ({new FileInfo(destination).Length / 1e6:0.0} MB, {files.Count} files)");
    }

    private static bool IsExecutableOnDisk(string path) => !OperatingSystem.IsWindows()
        && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
