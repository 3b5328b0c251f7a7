using System.Globalization;

namespace SnapLoader.Tests;

/// <summary>An HTTP/1.1 request or response head, as <see cref="FaultProxy"/> reads it: its first line split in three, then its headers.</summary>
/// <param name="Method">For a response, the version.</param>
/// <param name="Target">For a response, the status.</param>
/// <param name="Version">For a response, the reason phrase.</param>
/// <param name="Headers">The headers in the order sent.</param>
internal sealed record HttpHead(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers)
{
    public long? ContentLength => Header("Content-Length") is { } value ? long.Parse(value, CultureInfo.InvariantCulture) : null;

    /// <summary>For a response, the status code.</summary>
    public int Status => int.Parse(Target, CultureInfo.InvariantCulture);

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Whether a header's comma-separated value holds <paramref name="token"/> (such as chunked, or 100-continue).</summary>
    public bool HeaderHas(string name, string token) => Header(name)?.Contains(token, StringComparison.OrdinalIgnoreCase) == true;

    public static HttpHead Parse(string head)
    {
        var lines = head.Split("\r\n");
        var first = lines[0].Split(' ', 3);
        if (first.Length < 2)
        {
            throw new InvalidDataException($"Not an HTTP head: '{lines[0]}'.");
        }
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2).Select(p => (p[0].Trim(), p[1].Trim())).ToArray();
        return new HttpHead(first[0], first[1], first.Length > 2 ? first[2] : "", headers);
    }
}
