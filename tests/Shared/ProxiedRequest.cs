namespace SnapLoader.Tests;

/// <summary>One request <see cref="FaultProxy"/> received, with what it answered.</summary>
/// <param name="At">When it arrived, from the proxy's start.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Target">The path and query, such as <c>/bucket/key?uploadId=abc</c>.</param>
/// <param name="RangeStart">The first byte of its Range header, if any.</param>
/// <param name="RangeEnd">The last byte of its Range header, if any.</param>
/// <param name="SigningRegion">The region in its SigV4 credential scope, if signed.</param>
/// <param name="Status">
/// The status of the answer: the server's, or the fault's; the server's also when the fault lost it on the way to the
/// client, and 0 when there was none (the request was dropped).
/// </param>
/// <param name="Fault">The fault applied, if any.</param>
internal sealed record ProxiedRequest(TimeSpan At, string Method, string Target, long? RangeStart, long? RangeEnd, string? SigningRegion, int Status = 0, Fault? Fault = null)
{
    /// <summary>The path without its query, path-style: <c>/bucket/key</c>.</summary>
    public string Path => Target.Split('?')[0];

    /// <summary>The bucket: the first segment of the path.</summary>
    public string Bucket => Path.Split('/') is [_, var bucket, ..] ? bucket : "";

    /// <summary>The length of the range asked, if any.</summary>
    public long? RangeLength => RangeEnd - RangeStart + 1;

    /// <summary>True for CompleteMultipartUpload: a POST with an upload id.</summary>
    public bool IsCompleteMultipartUpload => Method == "POST" && Target.Contains("uploadId=", StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{At.TotalMilliseconds,7:F0} ms {Method} {Target}{(RangeStart is null ? "" : $" bytes={RangeStart}-{RangeEnd}")} {Status}{(Fault is null ? "" : $" [{Fault}]")}";
}
