using System.Security;

namespace SnapLoader.Tests;

/// <summary>
/// What <see cref="BuildFaultProxy"/> does with a request instead of forwarding it: answer it itself
/// (<see cref="Answer"/>), forward it and lose the server's answer (<see cref="LoseAnswer"/>), or drop
/// it (<see cref="Reset"/>).
/// </summary>
internal abstract record BuildFault
{
    private BuildFault()
    {
    }

    /// <summary>
    /// Answers without forwarding: <paramref name="Status"/> with <paramref name="Headers"/> and, except
    /// to a HEAD, <paramref name="XmlBody"/> (S3 sends no body to a HEAD, so its error code is lost).
    /// </summary>
    public sealed record Answer(int Status, string Reason, string XmlBody, IReadOnlyDictionary<string, string> Headers) : BuildFault;

    /// <summary>
    /// Forwards the request, waits for the server's whole answer, then resets the client's connection
    /// without sending it: the request took effect, the client cannot know.
    /// </summary>
    public sealed record LoseAnswer : BuildFault;

    /// <summary>
    /// Resets the client's connection once the request has arrived, without forwarding it: the request
    /// never took effect, and the client cannot know that either.
    /// </summary>
    public sealed record Reset : BuildFault;

    /// <summary>
    /// S3's 301 for a bucket in another region than the endpoint's: PermanentRedirect with the endpoint
    /// to use, and the bucket's region in <c>x-amz-bucket-region</c> (the only clue a HEAD gets).
    /// </summary>
    public static Answer PermanentRedirect(string bucket, string bucketRegion) => S3Error(
        301, "Moved Permanently", "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
        bucketRegion,
        ("Endpoint", $"{bucket}.s3.{bucketRegion}.amazonaws.com"), ("Bucket", bucket));

    /// <summary>S3's 400 for a request signed for another region than the bucket's.</summary>
    public static Answer AuthorizationHeaderMalformed(string signedRegion, string bucketRegion) => S3Error(
        400, "Bad Request", "AuthorizationHeaderMalformed",
        $"The authorization header is malformed; the region '{signedRegion}' is wrong; expecting '{bucketRegion}'",
        bucketRegion,
        ("Region", bucketRegion));

    /// <summary>S3's 400 for a request signed with a session token (STS, SSO) that has expired.</summary>
    public static Answer ExpiredToken() => S3Error(
        400, "Bad Request", "ExpiredToken", "The provided token has expired.", bucketRegion: null);

    /// <summary>An S3 error answer: the XML body S3 sends, and <c>x-amz-bucket-region</c> when given.</summary>
    public static Answer S3Error(int status, string reason, string code, string message, string? bucketRegion, params (string Name, string Value)[] elements)
    {
        var extra = string.Concat(elements.Select(e => $"<{e.Name}>{SecurityElement.Escape(e.Value)}</{e.Name}>"));
        var body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
            $"<Error><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message>{extra}" +
            "<RequestId>BUILDFAULTPROXY</RequestId><HostId>build-fault-proxy</HostId></Error>";
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Content-Type"] = "application/xml",
            ["x-amz-request-id"] = "BUILDFAULTPROXY",
        };
        if (bucketRegion is not null)
        {
            headers["x-amz-bucket-region"] = bucketRegion;
        }
        return new Answer(status, reason, body, headers);
    }
}
