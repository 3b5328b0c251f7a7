namespace SnapLoader.Tests;

/// <summary>
/// Which requests get a <see cref="Fault"/>: those that match every condition given (<see cref="Method"/>,
/// <see cref="Path"/>, <see cref="Bucket"/>, <see cref="MinRangeLength"/>, <see cref="When"/>), from the
/// (<see cref="Skip"/>+1)th match on, <see cref="Times"/> of them. "The 2nd GET of this key answers 500" is
/// <c>new FaultRule { Method = "GET", Path = "/b/k", Skip = 1, Times = 1, Fault = Fault.InternalError }</c>.
/// </summary>
internal sealed class FaultRule
{
    private int _matched;
    private int _applied;

    /// <summary>The HTTP method; any if null.</summary>
    public string? Method { get; init; }

    /// <summary>The request path without its query, path-style: <c>/bucket/key</c>; any if null.</summary>
    public string? Path { get; init; }

    /// <summary>Only requests for this bucket or an object in it; any if null.</summary>
    public string? Bucket { get; init; }

    /// <summary>Only requests whose Range covers at least this many bytes: 0 for any, larger to pick the entries' data over the directory reads.</summary>
    public long MinRangeLength { get; init; }

    /// <summary>
    /// Any other condition, such as a query parameter or the state of the test. It sees the request before it is
    /// answered (<see cref="ProxiedRequest.Status"/> 0), under the proxy's lock, so it must be quick.
    /// </summary>
    public Func<ProxiedRequest, bool>? When { get; init; }

    /// <summary>How many matching requests pass untouched first.</summary>
    public int Skip { get; init; }

    /// <summary>How many matching requests get the fault after those skipped; all by default.</summary>
    public int Times { get; init; } = int.MaxValue;

    /// <summary>What happens to them.</summary>
    public required Fault Fault { get; init; }

    /// <summary>How many requests got the fault so far.</summary>
    public int Applied => Volatile.Read(ref _applied);

    /// <summary>Counts a request that matches and says whether it gets the fault.</summary>
    internal bool Claim(ProxiedRequest request)
    {
        if ((Method is not null && !string.Equals(request.Method, Method, StringComparison.Ordinal))
            || (Path is not null && !string.Equals(request.Path, Path, StringComparison.Ordinal))
            || (Bucket is not null && !string.Equals(request.Bucket, Bucket, StringComparison.Ordinal)))
        {
            return false;
        }
        if (MinRangeLength > 0 && !(request.RangeLength >= MinRangeLength))
        {
            return false;
        }
        if (When is not null && !When(request))
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
