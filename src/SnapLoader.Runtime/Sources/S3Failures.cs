using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace SnapLoader.Runtime;

/// <summary>Sorts the failures of an S3 request: which may pass on another attempt, which say the bucket is elsewhere.</summary>
internal static class S3Failures
{
    /// <summary>
    /// Whether another attempt may succeed: S3's own "try again" answers (5xx, SlowDown, RequestTimeout), a connection
    /// that failed, broke or went silent. Never the answers that will not change by asking again (NoSuchKey,
    /// AccessDenied, a wrong region or expired credentials), so a misconfigured function fails at its first request
    /// instead of multiplying them.
    /// </summary>
    public static bool IsTransient(Exception e) => e switch
    {
        AmazonServiceException { StatusCode: not 0 } service =>
            (int)service.StatusCode >= 500 || service.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests ||
            service.ErrorCode is "SlowDown" or "RequestTimeout" or "InternalError" or "ServiceUnavailable",
        // The stall timer, or the HTTP client's own timeout (the caller's cancellation is handled before this is asked).
        TimeoutException or OperationCanceledException => true,
        HttpRequestException or IOException or SocketException => true,
        // The SDK sometimes wraps a network failure; "no credentials" is one too, with the chain's failures inside.
        AmazonClientException or AmazonServiceException => e.InnerException is { } inner && !IsMissingCredentials(e) && IsTransient(inner),
        _ => false,
    };

    /// <summary>The default credential chain found nothing: no request was even sent.</summary>
    public static bool IsMissingCredentials(Exception e) =>
        e is AmazonClientException && e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the failure happened before any byte reached S3: a name that does not resolve or a connection refused.
    /// After every retry, that is reported as an endpoint that cannot be reached, not as a failing range.
    /// </summary>
    public static bool IsConnectionFailure(Exception e)
    {
        for (Exception? at = e; at is not null; at = at.InnerException)
        {
            if (at is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } ||
                at is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>One line for the middle of a message (no final period): the S3 error code and status, or what the network did.</summary>
    public static string Describe(Exception e) => DescribeWithPeriod(e).TrimEnd('.', ' ');

    private static string DescribeWithPeriod(Exception e) => e switch
    {
        AmazonServiceException { StatusCode: not 0 } service => $"{service.ErrorCode} (HTTP {(int)service.StatusCode}): {service.Message}",
        TimeoutException => e.Message,
        _ when e.InnerException is { } inner && inner.Message != e.Message => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };
}
