using System.Globalization;
using System.Text;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Prints what moved, the deployment size before and after, the native files for other platforms, where the archive
/// is and what the function needs; fails when what stays is still too large for a Lambda zip deployment. When nothing
/// moved, it prints only the native files for other platforms.
/// </summary>
public sealed class ReportMovedFiles : SnapLoaderTask
{
    /// <summary>The moved files with SnapLoaderRelativePath and SnapLoaderSize; empty when nothing moved.</summary>
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>The publish folder, as it is now.</summary>
    [Required]
    public string PublishDirectory { get; set; } = "";

    /// <summary>Where the archive is: an s3:// address or a local path. Required when files moved.</summary>
    public string ArchiveLocation { get; set; } = "";

    /// <summary>The archive's length in bytes.</summary>
    public long ArchiveLength { get; set; }

    /// <summary>The exec wrapper's path relative to the publish folder. Required when files moved.</summary>
    public string WrapperRelativePath { get; set; } = "";

    /// <summary>
    /// The native files for another platform (from <see cref="FindForeignBinaries"/>, with SnapLoaderRelativePath,
    /// SnapLoaderSize and SnapLoaderPlatform), left in the deployment or, with <see cref="ForeignFilesRemoved"/>, left out.
    /// </summary>
    public ITaskItem[] ForeignFiles { get; set; } = [];

    /// <summary>Whether <see cref="ForeignFiles"/> were left out of the publish (SnapLoaderRemoveForeignBinaries).</summary>
    public bool ForeignFilesRemoved { get; set; }

    /// <summary>The RID the files are foreign to, for the report's wording.</summary>
    public string RuntimeIdentifier { get; set; } = "linux-x64";

    /// <summary>Largest deployment (unzipped bytes) accepted; Lambda's limit is 262,144,000 bytes, layers included.</summary>
    public long SizeLimit { get; set; } = 262_144_000;

    /// <summary>Error (default) or Warning: what happens when the deployment stays above <see cref="SizeLimit"/>.</summary>
    public string SizeLimitSeverity { get; set; } = "Error";

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        if (MovedFiles.Length == 0)
        {
            if (ForeignFiles.Length > 0)
            {
                var foreignOnly = new StringBuilder();
                AppendForeignFiles(foreignOnly, "SnapLoader: ");
                LogHigh(foreignOnly.ToString().TrimEnd());
            }
            return;
        }

        var moved = MovedFiles.Sum(SizeOf);
        var remaining = Directory.EnumerateFiles(PublishDirectory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        // "Before" is the deployment without SnapLoader, foreign files left out by it included.
        var removed = ForeignFilesRemoved ? ForeignFiles.Sum(SizeOf) : 0;

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"SnapLoader moved {MovedFiles.Length} files ({Megabytes(moved)}) out of the deployment:");
        foreach (var file in MovedFiles)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  {Megabytes(SizeOf(file)),12}  {file.GetMetadata(MetadataNames.MovedPath)}");
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"  deployment: {Megabytes(moved + removed + remaining)} before, {Megabytes(remaining)} after (Lambda's limit: {Megabytes(262_144_000)} unzipped, layers included)");
        AppendForeignFiles(report, "  ");
        report.AppendLine(CultureInfo.InvariantCulture, $"  archive:    {ArchiveLocation} ({Megabytes(ArchiveLength)})");
        report.Append(CultureInfo.InvariantCulture, $"  the function needs: AWS_LAMBDA_EXEC_WRAPPER=/var/task/{WrapperRelativePath}");
        LogHigh(report.ToString());

        if (remaining > SizeLimit)
        {
            var message = $"The deployment in '{PublishDirectory}' is still {remaining:N0} bytes after SnapLoader moved {moved:N0} bytes, over the limit of {SizeLimit:N0} bytes. " +
                "Move more with SnapLoaderInclude (data files) or a lower SnapLoaderThreshold; set SnapLoaderSizeLimitSeverity=Warning to publish anyway.";
            if (string.Equals(SizeLimitSeverity, "Warning", StringComparison.OrdinalIgnoreCase))
            {
                LogWarning(ErrorCodes.DeploymentTooLarge, message);
            }
            else
            {
                LogError(ErrorCodes.DeploymentTooLarge, message);
            }
        }
    }

    /// <summary>The native files for other platforms, one per line with its size and platform; nothing when there are none.</summary>
    private void AppendForeignFiles(StringBuilder report, string indent)
    {
        if (ForeignFiles.Length == 0)
        {
            return;
        }
        var total = Megabytes(ForeignFiles.Sum(SizeOf));
        if (ForeignFilesRemoved)
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{indent}native files for other platforms than {RuntimeIdentifier}, left out of the deployment (SnapLoaderRemoveForeignBinaries): {ForeignFiles.Length} files, {total}:");
        }
        else
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{indent}native files for other platforms than {RuntimeIdentifier}, still in the deployment: {ForeignFiles.Length} files, {total} (never loaded on Lambda; SnapLoaderRemoveForeignBinaries=true leaves them out):");
        }
        foreach (var file in ForeignFiles)
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"  {Readable(SizeOf(file)),12}  {file.GetMetadata(MetadataNames.MovedPath)} ({file.GetMetadata(FindForeignBinaries.PlatformMetadata)})");
        }
    }

    private static long SizeOf(ITaskItem file) => long.Parse(file.GetMetadata(MetadataNames.Size), CultureInfo.InvariantCulture);

    // A 22 KB file next to a 17 MB one reads as 0.0 MB otherwise.
    private static string Readable(long bytes) => bytes >= 100_000 ? Megabytes(bytes) : (bytes / 1_000.0).ToString("N1", CultureInfo.InvariantCulture) + " KB";

    private static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1_000_000.0:N1} MB");
}
