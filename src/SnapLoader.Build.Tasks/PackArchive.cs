using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Archive;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Packs the moved files, in load order, into one archive named by its SHA-256, under <see cref="IntermediateDirectory"/>.
/// Skips the work when the same files (path, size, timestamp) and options were packed before.
/// </summary>
public sealed class PackArchive : SnapLoaderTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The moved files in load order, from <see cref="AnalyzeNativeLibraries"/>.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>The folder that keeps the archive and its stamp between publishes (under obj/).</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = "";

    /// <summary>Zstd, Deflate or Stored.</summary>
    public string Compression { get; set; } = nameof(ArchiveCompression.Zstd);

    /// <summary>The compression level; empty for the compression's default.</summary>
    public string CompressionLevel { get; set; } = "";

    /// <summary>How many files are compressed at once; 0 for the number of cores.</summary>
    public int MaxParallelism { get; set; }

    /// <summary>Full path of the archive.</summary>
    [Output]
    public string ArchivePath { get; private set; } = "";

    /// <summary>The archive's file name: its SHA-256 and <c>.zip</c>.</summary>
    [Output]
    public string ArchiveFileName { get; private set; } = "";

    /// <summary>Lowercase hex SHA-256 of the archive.</summary>
    [Output]
    public string ArchiveSha256 { get; private set; } = "";

    /// <summary>Length of the archive in bytes.</summary>
    [Output]
    public long ArchiveLength { get; private set; }

    /// <summary>
    /// The files, in the same order, with SnapLoaderSha256 and SnapLoaderSize of their content, and SnapLoaderEntry
    /// (the relative path of the earlier file whose entry holds the same bytes) on each file stored only once.
    /// </summary>
    [Output]
    public ITaskItem[] PackedFiles { get; private set; } = [];

    /// <inheritdoc/>
    public void Cancel() => _cancel.Cancel();

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var compression = ParseCompression();
        var level = ParseLevel(compression);
        try
        {
            Directory.CreateDirectory(IntermediateDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapLoaderBuildException(ErrorCodes.ArchiveWriteFailed, $"Could not create '{IntermediateDirectory}' for the archive: {e.Message}", IntermediateDirectory, e);
        }

        var inputs = Files.Select(f => new ArchiveInput(f.GetMetadata(MetadataNames.MovedPath), Path.GetFullPath(f.ItemSpec))).ToList();
        var fingerprint = ArchiveStamp.Fingerprint(inputs, compression, level);
        var stampPath = Path.Combine(IntermediateDirectory, "archive.stamp.json");

        var packed = ArchiveStamp.TryRead(stampPath, fingerprint, IntermediateDirectory);
        if (packed is not null)
        {
            LogHigh($"SnapLoader: archive {Path.GetFileName(packed.Path)} is up to date ({inputs.Count} files).");
        }
        else
        {
            packed = Pack(inputs, compression, level);
            try
            {
                ArchiveStamp.Write(stampPath, fingerprint, packed);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only the next publish's shortcut is lost; this archive is complete.
                Log.LogMessage(MessageImportance.Normal, $"SnapLoader: could not record '{stampPath}' ({e.Message}); the next publish packs again.");
            }
        }

        ArchivePath = packed.Path;
        ArchiveFileName = Path.GetFileName(packed.Path);
        ArchiveSha256 = packed.Sha256;
        ArchiveLength = packed.Length;
        var entryOf = packed.EntryOfEachInput();
        PackedFiles = Files.Zip(inputs, (file, input) =>
        {
            var entry = entryOf[input.EntryName];
            var item = new TaskItem(file);
            item.SetMetadata(MetadataNames.Sha256, entry.Sha256);
            item.SetMetadata(MetadataNames.Size, entry.Size.ToString(CultureInfo.InvariantCulture));
            if (entry.EntryName != input.EntryName)
            {
                MSBuildEscaping.SetLiteral(item, MetadataNames.Entry, entry.EntryName);
            }
            return (ITaskItem)item;
        }).ToArray();
        ReportDuplicates(packed, entryOf);
    }

    /// <summary>One line on what storing identical files once saved: in the archive (compressed) and in memory at init.</summary>
    private void ReportDuplicates(PackedArchive packed, IReadOnlyDictionary<string, ArchiveEntry> entryOf)
    {
        if (packed.Duplicates.Count == 0)
        {
            return;
        }
        var archiveBytes = packed.Duplicates.Sum(d => entryOf[d.StoredAs].CompressedSize);
        var memoryBytes = packed.Duplicates.Sum(d => entryOf[d.StoredAs].Size);
        var groups = packed.Duplicates
            .GroupBy(d => d.StoredAs, StringComparer.Ordinal)
            .Select(g => "\n  " + string.Join(" = ", g.Select(d => d.EntryName).Prepend(g.Key)));
        LogHigh(string.Create(CultureInfo.InvariantCulture,
            $"SnapLoader: {packed.Duplicates.Count} moved file(s) are byte-identical to another and share its archive entry " +
            $"({Megabytes(archiveBytes)} MB less in the archive, {Megabytes(memoryBytes)} MB less memory at init):{string.Concat(groups)}"));
    }

    private static string Megabytes(long bytes) => (bytes / 1_000_000.0).ToString("F1", CultureInfo.InvariantCulture);

    private PackedArchive Pack(IReadOnlyList<ArchiveInput> inputs, ArchiveCompression compression, int level)
    {
        // Written under a name of its own first: the final name is the content's hash, known only at the
        // end, and another publish of the same project may be packing into this folder at the same time.
        var pending = Path.Combine(IntermediateDirectory, $"pending-{Guid.NewGuid():N}.zip");
        var parallelism = MaxParallelism > 0 ? MaxParallelism : Environment.ProcessorCount;
        var written = ArchiveWriter.Write(pending, inputs, compression, level, parallelism, line => LogHigh($"SnapLoader: {line}"), _cancel.Token);

        var finalPath = Path.Combine(IntermediateDirectory, written.Sha256 + ".zip");
        try
        {
            // A rename replaces the final name in one step: a concurrent publish that packed the same
            // files, and may be uploading from that name, reads a whole archive (the same bytes) either way.
            File.Move(written.Path, finalPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(written.Path);
            throw new SnapLoaderBuildException(ErrorCodes.ArchiveWriteFailed, $"Could not move the archive to '{finalPath}': {e.Message}", finalPath, e);
        }
        DeleteStaleArchives(finalPath);
        return written with { Path = finalPath };
    }

    /// <summary>
    /// Removes the archives of earlier packs. Only names that are a hash: a pending file belongs to a pack
    /// that is still running.
    /// </summary>
    private void DeleteStaleArchives(string keep)
    {
        foreach (var stale in Directory.EnumerateFiles(IntermediateDirectory, "*.zip")
                     .Where(p => p != keep && IsArchiveName(Path.GetFileNameWithoutExtension(p))))
        {
            if (!TryDelete(stale))
            {
                // Only disk space is lost; the archive of this pack is complete.
                Log.LogMessage(MessageImportance.Normal, $"SnapLoader: could not remove the stale archive '{stale}'.");
            }
        }
    }

    private static bool IsArchiveName(string name) => name.Length == 64 && name.All(char.IsAsciiHexDigitLower);

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private ArchiveCompression ParseCompression() =>
        Enum.TryParse<ArchiveCompression>(Compression, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new SnapLoaderBuildException(ErrorCodes.InvalidProperty,
                $"SnapLoaderCompression is '{Compression}'; use Zstd, Deflate or Stored.");

    private int ParseLevel(ArchiveCompression compression)
    {
        var level = 0; // the compression's default
        if (CompressionLevel.Length > 0
            && !(int.TryParse(CompressionLevel, NumberStyles.Integer, CultureInfo.InvariantCulture, out level)
                 && ArchiveCompressionLevels.IsValid(compression, level)))
        {
            throw new SnapLoaderBuildException(ErrorCodes.InvalidProperty,
                $"SnapLoaderCompressionLevel is '{CompressionLevel}', which {compression} does not accept; " +
                $"use 1 to {(compression == ArchiveCompression.Zstd ? ArchiveCompressionLevels.MaxZstdLevel : ArchiveCompressionLevels.MaxDeflateLevel)}, or leave it empty for the default.");
        }
        return ArchiveCompressionLevels.Resolve(compression, level);
    }
}
