using System.Security.Cryptography;

namespace SnapLoader.Tests;

/// <summary>SHA-256 as the manifests and the archive names write it: lowercase hex.</summary>
internal static class Sha256Hex
{
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Of(Stream stream) => Convert.ToHexStringLower(SHA256.HashData(stream));

    public static string OfFile(string path)
    {
        using var file = File.OpenRead(path);
        return Of(file);
    }
}
