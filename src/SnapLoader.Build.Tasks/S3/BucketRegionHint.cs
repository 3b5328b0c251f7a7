using System.Text.RegularExpressions;
using Amazon.Runtime.Internal;
using Amazon.S3;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// The bucket's actual region as S3 tells it in a wrong-region error, so the message can name the
/// value to set instead of sending the user to look it up.
/// </summary>
internal static partial class BucketRegionHint
{
    /// <summary>
    /// The region from the <c>x-amz-bucket-region</c> header, which S3 adds to PermanentRedirect and
    /// AuthorizationHeaderMalformed answers (the only clue an answer to a HEAD has), else from the
    /// message of AuthorizationHeaderMalformed ("expecting 'eu-west-1'"); null when S3 said neither.
    /// </summary>
    public static string? From(AmazonS3Exception error)
    {
        if (error.InnerException is HttpErrorResponseException { Response: { } response }
            && response.GetHeaderValue("x-amz-bucket-region") is { Length: > 0 } header
            && RegionName().IsMatch(header))
        {
            return header;
        }
        return ExpectedRegion().Match(error.Message) is { Success: true } expected ? expected.Groups[1].Value : null;
    }

    // Checked, since it goes into a message that tells the user what to set.
    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-\d+$")]
    private static partial Regex RegionName();

    [GeneratedRegex(@"expecting '([a-z]{2}(?:-[a-z]+)+-\d+)'")]
    private static partial Regex ExpectedRegion();
}
