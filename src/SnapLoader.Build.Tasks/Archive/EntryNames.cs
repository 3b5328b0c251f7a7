using System.Text;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Encodes the entry names of an archive: each checked against <see cref="EntryNameRules"/> (which the runtime checks
/// too), as strict UTF-8 that fits ZIP's 16-bit length, and no two alike.
/// </summary>
internal static class EntryNames
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Checks every name and that no two are equal (ordinal: the runtime and Linux are case-sensitive).
    /// Returns the encoded names in input order.
    /// </summary>
    /// <exception cref="SnapLoaderBuildException">SNAP0012 for a malformed or a repeated name.</exception>
    public static byte[][] EncodeAll(IReadOnlyList<ArchiveInput> inputs)
    {
        var encoded = new byte[inputs.Count][];
        var firstSource = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
            encoded[i] = Encode(input);
            if (firstSource.TryGetValue(input.EntryName, out var other))
            {
                throw new SnapLoaderBuildException(ErrorCodes.DuplicateEntryName, Repeated(input, other), input.SourcePath);
            }
            firstSource.Add(input.EntryName, input.SourcePath);
        }
        return encoded;
    }

    // Two files whose paths differ only in case reach the archive under one name: MSBuild compares item paths
    // ignoring case, so the SDK gives both the publish path of one (Remove and Copy would treat them as one file too),
    // and only renaming one of them helps.
    private static string Repeated(ArchiveInput input, string otherSource) =>
        !string.Equals(otherSource, input.SourcePath, StringComparison.Ordinal) && string.Equals(otherSource, input.SourcePath, StringComparison.OrdinalIgnoreCase)
            ? $"Archive entry name '{input.EntryName}' is given twice: for '{otherSource}' and for '{input.SourcePath}', whose names differ only in case. " +
              "MSBuild compares item paths ignoring case, so it treats the two files as one item and gives both the same publish path; excluding one would take both out of the deployment. " +
              "Rename one of them so that the names differ by more than case."
            : $"Archive entry name '{input.EntryName}' is given twice: for '{otherSource}' and for '{input.SourcePath}'. Each file needs its own name in the archive.";

    private static byte[] Encode(ArchiveInput input)
    {
        var problem = EntryNameRules.Problem(input.EntryName);
        byte[]? bytes = null;
        if (problem is null)
        {
            try
            {
                bytes = s_strictUtf8.GetBytes(input.EntryName);
            }
            catch (EncoderFallbackException)
            {
                problem = "is not valid Unicode (a lone surrogate)";
            }
        }
        if (bytes is { Length: > ushort.MaxValue })
        {
            problem = $"is {bytes.Length} bytes long in UTF-8; ZIP allows {ushort.MaxValue}";
        }
        if (problem is not null)
        {
            // SNAP0012 covers both name faults in README's table: the fix is the same (rename or exclude the file).
            throw new SnapLoaderBuildException(
                ErrorCodes.DuplicateEntryName,
                $"Archive entry name '{input.EntryName}' (for '{input.SourcePath}') {problem}.",
                input.SourcePath);
        }
        return bytes!;
    }

    /// <summary>True when every byte is ASCII, so the name needs no UTF-8 flag.</summary>
    public static bool IsAscii(byte[] encodedName) => Ascii.IsValid(encodedName);
}
