using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// Turns what the SDK throws into a <see cref="SnapLoaderBuildException"/> whose code and message say
/// what to fix: the bucket, the credentials, the permissions, the region, the endpoint, or (SNAP0034)
/// the cause as S3 gave it.
/// </summary>
internal static class S3ErrorTranslator
{
    /// <summary>Translates a failure of <paramref name="operation"/>, an S3 API name such as HeadObject.</summary>
    public static SnapLoaderBuildException Translate(Exception error, string operation, S3Location location, S3ClientSettings settings)
    {
        if (error is SnapLoaderBuildException known)
        {
            return known;
        }
        if (error is MultipartUploadFailure { InnerException: { } cause } multipart)
        {
            // The cause decides the code; the cleanup tells what is left to do about the upload.
            var translated = Translate(cause, multipart.Operation, location, settings);
            return new SnapLoaderBuildException(
                translated.Code, $"{translated.Message.TrimEnd('.')}. {multipart.Cleanup}", translated.File, translated.InnerException);
        }
        if (UnreachableReason(error) is { } reason)
        {
            return new SnapLoaderBuildException(
                ErrorCodes.EndpointUnreachable,
                $"Cannot reach the S3 endpoint {settings.EndpointDescription} for {operation} of {location.S3Uri}: {reason} " +
                $"(after {S3ClientSettings.MaxErrorRetry} retries). Check the endpoint URL, the network and any proxy.",
                inner: error);
        }
        if (error is AmazonS3Exception s3)
        {
            if (IsExpiredSession(s3))
            {
                // S3 answers 400, not 403, for these: without this they would read as a failed upload.
                return new SnapLoaderBuildException(
                    ErrorCodes.NoCredentials,
                    $"The AWS credentials from {settings.CredentialsSource} have expired. S3 answered {operation} of " +
                    $"{location.S3Uri} with {DescribeS3Error(s3)}. Their session token is no longer valid: sign in again " +
                    "(aws sso login), assume the role again or renew AWS_SESSION_TOKEN, then publish again.",
                    inner: error);
            }
            if (s3.ErrorCode == "NoSuchBucket")
            {
                return new SnapLoaderBuildException(
                    ErrorCodes.BucketNotFound,
                    $"The bucket '{location.Bucket}' does not exist at {settings.EndpointDescription} ({settings.RegionDescription}). " +
                    "Create it, or correct the bucket name or region.",
                    inner: error);
            }
            if (s3.StatusCode == HttpStatusCode.Forbidden)
            {
                return new SnapLoaderBuildException(
                    ErrorCodes.AccessDenied,
                    $"Access denied ({DescribeS3Error(s3)}) on {operation} of {location.S3Uri} with the credentials from " +
                    $"{settings.CredentialsSource}, at {settings.EndpointDescription}. The build needs the IAM actions " +
                    $"s3:GetObject and s3:PutObject (and s3:AbortMultipartUpload for archives above the multipart threshold) " +
                    $"on {location.ObjectArn}, and s3:ListBucket on {location.BucketArn}, without which S3 answers 403 " +
                    "instead of 404 for an archive that is not uploaded yet. A 403 also comes from credentials that the " +
                    "endpoint does not know (InvalidAccessKeyId, SignatureDoesNotMatch).",
                    inner: error);
            }
            if (BucketRegionHint.IsWrongRegion(s3))
            {
                var fix = BucketRegionHint.From(s3) is { } bucketRegion
                    ? $"The bucket is in region {bucketRegion}: set SnapLoaderRegion (or AWS_REGION) to {bucketRegion}."
                    : $"Set SnapLoaderRegion (or AWS_REGION) to the bucket's region (aws s3api get-bucket-location --bucket {location.Bucket}).";
                return new SnapLoaderBuildException(
                    ErrorCodes.WrongRegion,
                    $"The bucket '{location.Bucket}' is not in region {settings.Region} (from {settings.RegionSource}). S3 answered " +
                    $"{operation} of {location.S3Uri} with {DescribeS3Error(s3)}. {fix}",
                    inner: error);
            }
            return Failed(operation, location, DescribeS3Error(s3), error);
        }
        return Failed(operation, location, error.Message, error);
    }

    /// <summary>
    /// Why the endpoint could not be reached (refused, unknown host, connect timeout), or null when the
    /// failure came from a server that answered.
    /// </summary>
    public static string? UnreachableReason(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case AmazonServiceException { StatusCode: not 0 }:
                    return null;
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found",
                        SocketError.TimedOut => "connection timed out",
                        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown => "host unreachable",
                        _ => null,
                    };
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } http:
                    return $"host name not found ({http.Message})";
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } http
                    when http.InnerException is not SocketException:
                    return $"cannot connect ({http.Message})";
                case TimeoutException timeout when timeout.Message.Contains("connect", StringComparison.OrdinalIgnoreCase):
                    // SocketsHttpHandler reports its ConnectTimeout as a cancellation wrapping this; a
                    // TimeoutException for a slow answer (HttpClient.Timeout) is an upload failure instead.
                    return $"no connection within {S3ClientSettings.ConnectTimeout.TotalSeconds:0} s";
            }
        }
        return null;
    }

    private static bool IsExpiredSession(AmazonS3Exception s3) =>
        s3.ErrorCode is "ExpiredToken" or "TokenRefreshRequired";

    private static string DescribeS3Error(AmazonS3Exception s3)
    {
        var code = string.IsNullOrEmpty(s3.ErrorCode) ? "no error code" : s3.ErrorCode;
        // Without its final period, since messages go on after it.
        return $"{code}, HTTP {(int)s3.StatusCode}: {s3.Message.TrimEnd('.')}";
    }

    private static SnapLoaderBuildException Failed(string operation, S3Location location, string cause, Exception error) =>
        new(ErrorCodes.UploadFailed,
            $"Uploading the archive to {location.S3Uri} failed on {operation}: {cause}",
            inner: error);
}
