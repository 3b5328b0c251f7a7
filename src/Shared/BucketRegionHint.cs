using System.Net;
using System.Text.RegularExpressions;
using Amazon.Runtime.Internal;
using Amazon.S3;

namespace SnapLoader;

/// <summary>
/// The bucket's actual region as S3 tells it in a wrong-region answer, so that an error can name the value to set
/// instead of sending the user to look it up. Both the build's upload (SNAP0033) and the runtime's load (SNAP1027) say it.
/// </summary>
/// <remarks>Compiled into both SnapLoader.Build.Tasks and SnapLoader.Runtime (see src/Shared/README.md).</remarks>
internal static partial class BucketRegionHint
{
    private const string RegionHeader = "x-amz-bucket-region";

    /// <summary>
    /// The region S3 named in <paramref name="error"/>: its <c>x-amz-bucket-region</c> header (S3 adds it to
    /// PermanentRedirect and AuthorizationHeaderMalformed answers, and it is the only clue an answer to a HEAD has), else
    /// what its message or XML body says; <see langword="null"/> when S3 said none.
    /// </summary>
    public static string? From(AmazonS3Exception error)
    {
        // The SDK keeps the HTTP answer on the exception underneath.
        var header = error.InnerException is HttpErrorResponseException { Response: { } response } && response.IsHeaderPresent(RegionHeader)
            ? response.GetHeaderValue(RegionHeader)
            : null;
        return FromHeader(header) ?? FromText(error.Message) ?? FromText(error.ResponseBody);
    }

    /// <summary>
    /// Whether S3 said the bucket is in another region than the request was signed for: 301 PermanentRedirect (or
    /// IllegalLocationConstraintException), or 400 AuthorizationHeaderMalformed naming the region it expected (that
    /// code also covers other malformed headers, which are not a region's fault).
    /// </summary>
    public static bool IsWrongRegion(AmazonS3Exception error) =>
        error.ErrorCode is "PermanentRedirect" or "IllegalLocationConstraintException" || error.StatusCode == HttpStatusCode.MovedPermanently ||
        (error.ErrorCode == "AuthorizationHeaderMalformed" && From(error) is not null);

    /// <summary>The header's value when it is a region's name, else <see langword="null"/>.</summary>
    public static string? FromHeader(string? header) => header is not null && RegionName().IsMatch(header) ? header : null;

    /// <summary>
    /// The region in an S3 error's message or body: "expecting 'eu-west-1'" (AuthorizationHeaderMalformed), a
    /// <c>&lt;Region&gt;</c> element, or the endpoint of a PermanentRedirect (<c>bucket.s3.eu-west-1.amazonaws.com</c>);
    /// <see langword="null"/> when it names none.
    /// </summary>
    public static string? FromText(string? text)
    {
        if (text is null)
        {
            return null;
        }
        foreach (var pattern in new[] { ExpectingRegion(), RegionElement(), EndpointRegion() })
        {
            if (pattern.Match(text) is { Success: true } match)
            {
                return match.Groups[1].Value;
            }
        }
        return null;
    }

    // What a region name looks like ("eu-west-1", "us-gov-west-1"), once for every pattern below.
    private const string Region = @"[a-z]{2}(?:-[a-z]+)+-\d+";

    // Checked, since it goes into a message that tells the user what to set.
    [GeneratedRegex("^" + Region + "$")]
    private static partial Regex RegionName();

    [GeneratedRegex("expecting '(" + Region + ")'")]
    private static partial Regex ExpectingRegion();

    [GeneratedRegex("<Region>(" + Region + ")</Region>")]
    private static partial Regex RegionElement();

    // "<Endpoint>bucket.s3.eu-west-1.amazonaws.com</Endpoint>" or s3-eu-west-1.
    [GeneratedRegex(@"\.s3[.-](" + Region + @")\.amazonaws\.com")]
    private static partial Regex EndpointRegion();
}
