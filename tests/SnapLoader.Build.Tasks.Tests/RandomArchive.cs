using System.Security.Cryptography;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>Stand-in archives for upload tests: random bytes, so no two share a hash, and their hashes.</summary>
internal static class RandomArchive
{
    /// <summary>Writes <paramref name="length"/> random bytes to a new file in <paramref name="folder"/>.</summary>
    public static (string Path, string Sha256) Write(string folder, string name, int length)
    {
        var path = System.IO.Path.Combine(folder, $"{Guid.NewGuid():N}-{name}");
        var bytes = RandomNumberGenerator.GetBytes(length);
        File.WriteAllBytes(path, bytes);
        return (path, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
