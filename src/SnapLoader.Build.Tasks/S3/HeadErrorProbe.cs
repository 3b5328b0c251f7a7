using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// Recovers S3's error code when HeadObject fails with a status that says nothing on its own.
/// </summary>
/// <remarks>
/// An answer to a HEAD has no body, so the SDK only sees "400 Bad Request" or "301 Moved Permanently"
/// where S3 meant ExpiredToken, AuthorizationHeaderMalformed or PermanentRedirect: the well-known
/// unhelpful "(400) when calling the HeadObject operation: Bad Request". A one-byte ranged GET of the
/// same object (s3:GetObject, which the build needs anyway) gets the same error with its XML body.
/// </remarks>
internal static class HeadErrorProbe
{
    /// <summary>True when <paramref name="headError"/> lacks the code the user needs.</summary>
    public static bool Applies(AmazonS3Exception headError) =>
        HasNoS3Code(headError)
        && (headError.StatusCode == HttpStatusCode.BadRequest || (int)headError.StatusCode is >= 300 and < 400);

    /// <summary>
    /// The GET's error when it has S3's code, else <paramref name="headError"/> (the GET found the object,
    /// or failed in a way that explains nothing more).
    /// </summary>
    public static async Task<Exception> ExplainAsync(IAmazonS3 client, S3Location location, AmazonS3Exception headError, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = location.Bucket,
                Key = location.Key,
                ByteRange = new ByteRange(0, 0),
            }, cancellationToken).ConfigureAwait(false);
            return headError;
        }
        catch (AmazonS3Exception getError) when (!HasNoS3Code(getError) && getError.StatusCode == headError.StatusCode)
        {
            return getError;
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            return headError;
        }
    }

    // Without a body the SDK makes the code up from the status: "BadRequest", "MovedPermanently".
    private static bool HasNoS3Code(AmazonS3Exception error) => error.ErrorCode == error.StatusCode.ToString();
}
