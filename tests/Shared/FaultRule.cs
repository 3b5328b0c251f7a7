using System.Globalization;
using System.Security;

namespace SnapLoader.Tests;

/// <summary>What <see cref="FaultProxy"/> does to a request that a <see cref="FaultRule"/> picked.</summary>
internal enum FaultKind
{
    /// <summary>Answer with an S3 error document instead of forwarding.</summary>
    Answer,

    /// <summary>Forward, relay the answer's head and <see cref="Fault.AfterBytes"/> body bytes, then reset the connection (RST).</summary>
    Reset,

    /// <summary>Forward, relay the head and <see cref="Fault.AfterBytes"/> body bytes, then close the connection (FIN): a truncated body.</summary>
    Truncate,

    /// <summary>Forward, relay the head and <see cref="Fault.AfterBytes"/> body bytes, send nothing for <see cref="Fault.Duration"/>, then go on.</summary>
    Stall,
}

/// <summary>One fault, made with the factory members (for example <see cref="InternalError"/> or <see cref="ResetAfter"/>).</summary>
internal sealed record Fault(FaultKind Kind, int Status = 0, string? ErrorCode = null, string? ErrorMessage = null, string? Region = null,
    long AfterBytes = 0, TimeSpan Duration = default)
{
    /// <summary>HTTP 500 InternalError, which S3 asks clients to retry.</summary>
    public static Fault InternalError { get; } = Answer(500, "InternalError", "We encountered an internal error. Please try again.");

    /// <summary>HTTP 503 SlowDown: S3's request-rate throttling.</summary>
    public static Fault SlowDown { get; } = Answer(503, "SlowDown", "Please reduce your request rate.");

    /// <summary>HTTP 403 AccessDenied, as S3 answers when the role lacks s3:GetObject.</summary>
    public static Fault AccessDenied { get; } = Answer(403, "AccessDenied", "Access Denied");

    /// <summary>HTTP 400 ExpiredToken: the session token of temporary credentials has expired.</summary>
    public static Fault ExpiredToken { get; } = Answer(400, "ExpiredToken", "The provided token has expired.");

    /// <summary>An S3 error document with <paramref name="status"/>, <paramref name="code"/> and <paramref name="message"/>.</summary>
    public static Fault Answer(int status, string code, string message, string? region = null) => new(FaultKind.Answer, status, code, message, region);

    /// <summary>HTTP 301 PermanentRedirect: the bucket is in <paramref name="region"/>, given in the body and the x-amz-bucket-region header.</summary>
    public static Fault PermanentRedirect(string region) => Answer(301, "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.", region);

    /// <summary>HTTP 400 AuthorizationHeaderMalformed: the request was signed for <paramref name="asked"/>, the bucket is in <paramref name="region"/>.</summary>
    public static Fault AuthorizationHeaderMalformed(string asked, string region) => Answer(400, "AuthorizationHeaderMalformed",
        $"The authorization header is malformed; the region '{asked}' is wrong; expecting '{region}'", region);

    /// <summary>Resets the connection once <paramref name="bytes"/> bytes of the body were relayed.</summary>
    public static Fault ResetAfter(long bytes) => new(FaultKind.Reset, AfterBytes: bytes);

    /// <summary>Closes the connection once <paramref name="bytes"/> bytes of the body were relayed, short of its Content-Length.</summary>
    public static Fault TruncateAfter(long bytes) => new(FaultKind.Truncate, AfterBytes: bytes);

    /// <summary>Sends nothing for <paramref name="duration"/> once <paramref name="bytes"/> bytes of the body were relayed.</summary>
    public static Fault StallAfter(long bytes, TimeSpan duration) => new(FaultKind.Stall, AfterBytes: bytes, Duration: duration);

    /// <summary>The error document S3 would send.</summary>
    internal string ErrorDocument() =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>" +
        $"<Code>{SecurityElement.Escape(ErrorCode)}</Code><Message>{SecurityElement.Escape(ErrorMessage)}</Message>" +
        (Region is null ? "" : $"<Region>{SecurityElement.Escape(Region)}</Region>") +
        "<RequestId>FAULTPROXY</RequestId><HostId>fault-proxy</HostId></Error>";

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        FaultKind.Answer => $"{Status} {ErrorCode}",
        FaultKind.Stall => $"stall {Duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s after {AfterBytes} bytes",
        _ => $"{Kind.ToString().ToLowerInvariant()} after {AfterBytes} bytes",
    };
}

/// <summary>
/// Which requests get a <see cref="Fault"/>: those with <see cref="Method"/> and <see cref="Path"/> (and a range at
/// least <see cref="MinRangeLength"/> long), from the (<see cref="Skip"/>+1)th match on, <see cref="Times"/> of them.
/// "The 2nd GET of this key answers 500" is <c>new FaultRule { Path = "/b/k", Skip = 1, Times = 1, Fault = Fault.InternalError }</c>.
/// </summary>
internal sealed class FaultRule
{
    private int _matched;
    private int _applied;

    /// <summary>The HTTP method; GET by default.</summary>
    public string Method { get; init; } = "GET";

    /// <summary>The request path without its query, path-style: <c>/bucket/key</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Only requests whose Range covers at least this many bytes: 0 for any, larger to pick the entries' data over the directory reads.</summary>
    public long MinRangeLength { get; init; }

    /// <summary>How many matching requests pass untouched first.</summary>
    public int Skip { get; init; }

    /// <summary>How many matching requests get the fault after those skipped; all by default.</summary>
    public int Times { get; init; } = int.MaxValue;

    /// <summary>What happens to them.</summary>
    public required Fault Fault { get; init; }

    /// <summary>How many requests got the fault so far.</summary>
    public int Applied => Volatile.Read(ref _applied);

    /// <summary>Counts a request that matches and says whether it gets the fault.</summary>
    internal bool Claim(string method, string path, long? rangeStart, long? rangeEnd)
    {
        if (!string.Equals(method, Method, StringComparison.Ordinal) || !string.Equals(path, Path, StringComparison.Ordinal))
        {
            return false;
        }
        if (MinRangeLength > 0 && (rangeStart is null || rangeEnd is null || rangeEnd - rangeStart + 1 < MinRangeLength))
        {
            return false;
        }
        var seen = Interlocked.Increment(ref _matched);
        if (seen <= Skip || seen - Skip > Times)
        {
            return false;
        }
        Interlocked.Increment(ref _applied);
        return true;
    }
}

/// <summary>One request <see cref="FaultProxy"/> received, with what it answered.</summary>
/// <param name="At">When it arrived, from the proxy's start.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path without its query.</param>
/// <param name="RangeStart">The first byte of its Range header, if any.</param>
/// <param name="RangeEnd">The last byte of its Range header, if any.</param>
/// <param name="SigningRegion">The region in its SigV4 credential scope, if signed.</param>
/// <param name="Status">The status the client got (the server's, or the fault's).</param>
/// <param name="Fault">The fault applied, if any.</param>
internal sealed record ProxiedRequest(TimeSpan At, string Method, string Path, long? RangeStart, long? RangeEnd, string? SigningRegion, int Status, Fault? Fault)
{
    /// <summary>The length of the range asked, if any.</summary>
    public long? RangeLength => RangeEnd - RangeStart + 1;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{At.TotalMilliseconds,7:F0} ms {Method} {Path}{(RangeStart is null ? "" : $" bytes={RangeStart}-{RangeEnd}")} {Status}{(Fault is null ? "" : $" [{Fault}]")}";
}
