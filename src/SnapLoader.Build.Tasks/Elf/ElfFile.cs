namespace SnapLoader.Build.Tasks.Elf;

/// <summary>Recognises ELF files and reads the facts the build needs from them.</summary>
public static class ElfFile
{
    private static ReadOnlySpan<byte> Magic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>Whether the file starts with the ELF magic bytes. Reads those 4 bytes only.</summary>
    /// <param name="path">The file to look at.</param>
    /// <returns>False for a file shorter than 4 bytes or one that starts otherwise.</returns>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened or read.</exception>
    public static bool IsElf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        Span<byte> start = stackalloc byte[4];
        return stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && start.SequenceEqual(Magic);
    }

    /// <summary>
    /// Reads machine, class, SONAME, DT_NEEDED, DT_RUNPATH and DT_RPATH. Reads the headers, the dynamic section and
    /// its string table only, never the whole file. A file without a dynamic section gives empty lists.
    /// </summary>
    /// <param name="path">An ELF file, 32- or 64-bit, little- or big-endian.</param>
    /// <exception cref="SnapLoaderBuildException">
    /// Code <c>SNAP0020</c>: the file cannot be read, is not ELF, or is truncated or corrupt. The message names the
    /// file and what is wrong, and <see cref="SnapLoaderBuildException.File"/> is <paramref name="path"/>.
    /// </exception>
    public static ElfFacts Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.RandomAccess);
            var layout = ElfHeaderLayout.Read(file);
            return ElfDynamicReader.Read(path, file, layout);
        }
        catch (Exception ex) when (ex is not SnapLoaderBuildException)
        {
            // Whatever ELFSharp throws on a malformed file (ArgumentException, InvalidOperationException,
            // IndexOutOfRangeException, ...) is a property of the file, not a bug to surface as a crash.
            throw new SnapLoaderBuildException(ErrorCodes.UnreadableElf, Describe(path, ex), path, ex);
        }
    }

    private static string Describe(string path, Exception ex)
    {
        const string Hint = "SnapLoader reads every native library it moves to learn its dependencies; check that the file is a complete Linux shared library.";
        var what = ex switch
        {
            InvalidDataException => ex.Message,
            EndOfStreamException => "it ends before the data its headers point to: the file is truncated or corrupt.",
            IOException or UnauthorizedAccessException => $"it cannot be opened or read: {ex.Message}",
            _ => $"it is truncated or corrupt ({ex.GetType().Name}: {ex.Message})",
        };
        return $"Cannot read the ELF file '{path}': {what} {Hint}";
    }
}
