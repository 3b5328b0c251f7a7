namespace SnapLoader.Tests;

/// <summary>File names MSBuild would change: escapes it unescapes, characters it gives a meaning, and spaces at the ends that it trims.</summary>
internal static class MSBuildFileNames
{
    /// <summary>The names, each a file a test moves and must find again under its exact name.</summary>
    public static readonly string[] Changed =
        ["%41%2A.bin", "50%25.bin", "a;b.bin", "$(x).bin", "@(x).bin", "star*.bin", "what?.bin", "it's.bin", " leading.bin", "trailing.bin "];
}
