using System.Globalization;
using System.Text;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Prints what moved, the deployment size before and after, where the archive is and what the function needs;
/// fails when what stays is still too large for a Lambda zip deployment.
/// </summary>
public sealed class ReportMovedFiles : SnapLoaderTask
{
    /// <summary>The moved files with SnapLoaderRelativePath and SnapLoaderSize.</summary>
    [Required]
    public ITaskItem[] MovedFiles { get; set; } = [];

    /// <summary>The publish folder, as it is now.</summary>
    [Required]
    public string PublishDirectory { get; set; } = "";

    /// <summary>Where the archive is: an s3:// address or a local path.</summary>
    [Required]
    public string ArchiveLocation { get; set; } = "";

    /// <summary>The archive's length in bytes.</summary>
    public long ArchiveLength { get; set; }

    /// <summary>The exec wrapper's path relative to the publish folder.</summary>
    [Required]
    public string WrapperRelativePath { get; set; } = "";

    /// <summary>Largest deployment (unzipped bytes) accepted; Lambda's limit is 262,144,000 bytes, layers included.</summary>
    public long SizeLimit { get; set; } = 262_144_000;

    /// <summary>Error (default) or Warning: what happens when the deployment stays above <see cref="SizeLimit"/>.</summary>
    public string SizeLimitSeverity { get; set; } = "Error";

    /// <inheritdoc/>
    protected override void ExecuteCore()
    {
        var moved = MovedFiles.Sum(SizeOf);
        var remaining = Directory.EnumerateFiles(PublishDirectory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"SnapLoader moved {MovedFiles.Length} files ({Megabytes(moved)}) out of the deployment:");
        foreach (var file in MovedFiles)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  {Megabytes(SizeOf(file)),12}  {file.GetMetadata(MetadataNames.MovedPath)}");
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"  deployment: {Megabytes(moved + remaining)} before, {Megabytes(remaining)} after (Lambda's limit: {Megabytes(262_144_000)} unzipped, layers included)");
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

    private static long SizeOf(ITaskItem file) => long.Parse(file.GetMetadata(MetadataNames.Size), CultureInfo.InvariantCulture);

    private static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1_000_000.0:N1} MB");
}
