using System.Globalization;
using System.Net;
using System.Security;

namespace SnapLoader.Tests;

/// <summary>What <see cref="FaultProxy"/> does to a request that a <see cref="FaultRule"/> picked.</summary>
internal enum FaultKind
{
    /// <summary>Answer with an S3 error document instead of forwarding.</summary>
    Answer,

    /// <summary>Reset the connection once the request has arrived, without forwarding it: the request never took effect, and the client cannot know.</summary>
    DropRequest,

    /// <summary>Forward, wait for the server's whole answer, then reset the connection without sending it: the request took effect, the client cannot know.</summary>
    LoseAnswer,

    /// <summary>Forward once the task of <see cref="Fault.Until"/> has ended, and relay the answer untouched.</summary>
    Hold,

    /// <summary>Forward, relay the answer's head and <see cref="Fault.AfterBytes"/> body bytes, then reset the connection (RST).</summary>
    Reset,

    /// <summary>Forward, relay the head and <see cref="Fault.AfterBytes"/> body bytes, then close the connection (FIN): a truncated body.</summary>
    Truncate,

    /// <summary>Forward, relay the head and <see cref="Fault.AfterBytes"/> body bytes, send nothing for <see cref="Fault.Duration"/>, then go on.</summary>
    Stall,
}

/// <summary>One fault, made with the factory members (for example <see cref="InternalError"/> or <see cref="ResetAfter"/>).</summary>
internal sealed record Fault(FaultKind Kind, int Status = 0, string? ErrorCode = null, string? ErrorMessage = null, string? Region = null,
    long AfterBytes = 0, TimeSpan Duration = default, Func<ProxiedRequest, Task>? Until = null)
{
    /// <summary>HTTP 500 InternalError, which S3 asks clients to retry.</summary>
    public static Fault InternalError { get; } = Answer(500, "InternalError", "We encountered an internal error. Please try again.");

    /// <summary>HTTP 503 SlowDown: S3's request-rate throttling.</summary>
    public static Fault SlowDown { get; } = Answer(503, "SlowDown", "Please reduce your request rate.");

    /// <summary>HTTP 403 AccessDenied, as S3 answers when the role lacks s3:GetObject.</summary>
    public static Fault AccessDenied { get; } = Answer(403, "AccessDenied", "Access Denied");

    /// <summary>HTTP 400 ExpiredToken: the session token of temporary credentials (STS, SSO) has expired.</summary>
    public static Fault ExpiredToken { get; } = Answer(400, "ExpiredToken", "The provided token has expired.");

    /// <summary>See <see cref="FaultKind.DropRequest"/>.</summary>
    public static Fault DropRequest { get; } = new(FaultKind.DropRequest);

    /// <summary>See <see cref="FaultKind.LoseAnswer"/>.</summary>
    public static Fault LoseAnswer { get; } = new(FaultKind.LoseAnswer);

    /// <summary>An S3 error document with <paramref name="status"/>, <paramref name="code"/> and <paramref name="message"/>.</summary>
    /// <param name="region">The bucket's region, sent in x-amz-bucket-region (the only clue an answer to a HEAD has) and in the document.</param>
    public static Fault Answer(int status, string code, string message, string? region = null) => new(FaultKind.Answer, status, code, message, region);

    /// <summary>
    /// HTTP 301 PermanentRedirect: the bucket is in <paramref name="region"/>, given in the x-amz-bucket-region header
    /// and, as the endpoint to use, in the body.
    /// </summary>
    public static Fault PermanentRedirect(string region) => Answer(301, "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.", region);

    /// <summary>HTTP 400 AuthorizationHeaderMalformed: the request was signed for <paramref name="asked"/>, the bucket is in <paramref name="region"/>.</summary>
    public static Fault AuthorizationHeaderMalformed(string asked, string region) => Answer(400, "AuthorizationHeaderMalformed",
        $"The authorization header is malformed; the region '{asked}' is wrong; expecting '{region}'", region);

    /// <summary>
    /// Holds the request until <paramref name="until"/>'s task ends, then forwards it; the wait ties up no thread, so
    /// the rule may wait for what the server does with other requests.
    /// </summary>
    public static Fault HoldUntil(Func<ProxiedRequest, Task> until) => new(FaultKind.Hold, Until: until);

    /// <summary>Resets the connection once <paramref name="bytes"/> bytes of the body were relayed.</summary>
    public static Fault ResetAfter(long bytes) => new(FaultKind.Reset, AfterBytes: bytes);

    /// <summary>Closes the connection once <paramref name="bytes"/> bytes of the body were relayed, short of its Content-Length.</summary>
    public static Fault TruncateAfter(long bytes) => new(FaultKind.Truncate, AfterBytes: bytes);

    /// <summary>Sends nothing for <paramref name="duration"/> once <paramref name="bytes"/> bytes of the body were relayed.</summary>
    public static Fault StallAfter(long bytes, TimeSpan duration) => new(FaultKind.Stall, AfterBytes: bytes, Duration: duration);

    /// <summary>The reason phrase of <see cref="Status"/>, such as <c>Moved Permanently</c>.</summary>
    internal string Reason
    {
        get
        {
            using var message = new HttpResponseMessage((HttpStatusCode)Status);
            return message.ReasonPhrase ?? "";
        }
    }

    /// <summary>
    /// The error document S3 would send for a request to <paramref name="bucket"/>. S3 names the region of a redirect
    /// by the endpoint to use, and that of other answers in a Region element.
    /// </summary>
    internal string ErrorDocument(string bucket)
    {
        var region = (Region, Status) switch
        {
            (null, _) => "",
            (_, 301) => $"<Endpoint>{SecurityElement.Escape($"{bucket}.s3.{Region}.amazonaws.com")}</Endpoint><Bucket>{SecurityElement.Escape(bucket)}</Bucket>",
            _ => $"<Region>{SecurityElement.Escape(Region)}</Region>",
        };
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>" +
            $"<Code>{SecurityElement.Escape(ErrorCode)}</Code><Message>{SecurityElement.Escape(ErrorMessage)}</Message>{region}" +
            "<RequestId>FAULTPROXY</RequestId><HostId>fault-proxy</HostId></Error>";
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        FaultKind.Answer => $"{Status} {ErrorCode}",
        FaultKind.DropRequest => "request dropped",
        FaultKind.LoseAnswer => "answer lost",
        FaultKind.Hold => "held",
        FaultKind.Stall => $"stall {Duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s after {AfterBytes} bytes",
        _ => $"{Kind.ToString().ToLowerInvariant()} after {AfterBytes} bytes",
    };
}
