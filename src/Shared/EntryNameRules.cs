namespace SnapLoader;

/// <summary>
/// The rules every archive entry name and every name of a memory file follows, checked where a name is made (the
/// build's archive writer, the runtime's <c>CreateMemoryFile</c>), where it is read (the runtime's ZIP reader and the
/// manifest's <c>MovedFile</c>) and where it becomes a link (<c>SymlinkFarm</c>). A
/// name becomes a path under the function's folder and a link under the folder of links: it must stay inside both on
/// every platform that may extract the archive, and mean one file.
/// </summary>
/// <remarks>
/// Compiled into both SnapLoader.Build.Tasks and SnapLoader.Runtime (see src/Shared/README.md), so that what the
/// build packs, the runtime accepts.
/// </remarks>
internal static class EntryNameRules
{
    /// <summary>
    /// Why <paramref name="name"/> breaks a rule, as the end of a sentence that starts with the name ("… is empty"), or
    /// <see langword="null"/> when it follows them all. A folder entry's trailing '/' is the caller's to remove.
    /// </summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "is empty";
        }
        if (name.Contains('\\'))
        {
            return "contains a backslash; entry names use forward slashes";
        }
        if (name[0] == '/')
        {
            return "is absolute (it starts with '/'); entry names are relative";
        }
        if (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0]))
        {
            return "is absolute (it starts with a drive letter); entry names are relative";
        }
        foreach (var c in name)
        {
            // NUL would cut the path short in every C call; the others break logs and the lines of tools that list
            // names. C1 (U+0080-U+009F) is not refused: a name without ZIP's UTF-8 flag is read as Latin-1, and
            // CP437's accented letters (0x80-0x9F) land there.
            if (c < '\u0020' || c == '\u007F')
            {
                return $"contains a control character (U+{(int)c:X4})";
            }
        }
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "has an empty segment (a doubled or trailing '/')";
            }
            if (segment is "." or "..")
            {
                return $"has a '{segment}' segment";
            }
        }
        return null;
    }
}
