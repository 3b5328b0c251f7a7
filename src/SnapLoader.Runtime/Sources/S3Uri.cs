using System.Diagnostics.CodeAnalysis;

namespace SnapLoader.Runtime;

/// <summary>Parses the <c>s3://bucket/key</c> form users copy from the AWS CLI and the build's report.</summary>
internal static class S3Uri
{
    public static bool TryParse(string text, [NotNullWhen(true)] out string? bucket, [NotNullWhen(true)] out string? key)
    {
        bucket = key = null;
        const string scheme = "s3://";
        if (!text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var rest = text.AsSpan(scheme.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return false;
        }
        bucket = rest[..slash].ToString();
        key = rest[(slash + 1)..].ToString();
        return true;
    }
}
