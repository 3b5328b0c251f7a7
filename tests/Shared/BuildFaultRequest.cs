namespace SnapLoader.Tests;

/// <summary>A request as <see cref="BuildFaultProxy"/> received it, for its rule to pick faults by.</summary>
/// <param name="Method">GET, HEAD, PUT, POST or DELETE.</param>
/// <param name="Target">The path and query, such as <c>/bucket/key?uploadId=abc</c>.</param>
/// <param name="Headers">The request headers, names case-insensitive.</param>
internal sealed record BuildFaultRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>True for CompleteMultipartUpload: a POST with an upload id.</summary>
    public bool IsCompleteMultipartUpload => Method == "POST" && Target.Contains("uploadId=", StringComparison.Ordinal);

    /// <summary>True when the target is <paramref name="bucket"/> or an object in it.</summary>
    public bool IsFor(string bucket) =>
        Target == "/" + bucket || Target.StartsWith($"/{bucket}/", StringComparison.Ordinal) || Target.StartsWith($"/{bucket}?", StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Target}";
}
