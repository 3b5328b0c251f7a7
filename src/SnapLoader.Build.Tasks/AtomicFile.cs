using System.Text;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Replaces a file so that a reader sees the old content or the new, never a half-written file: another publish of the
/// same project may read or write the file at the same moment. The content goes to a name of its own beside the file,
/// which is then renamed over it; on failure the temporary file is removed and the old file is untouched.
/// </summary>
internal static class AtomicFile
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="contents"/> (UTF-8, no byte order mark).</summary>
    public static void WriteAllText(string path, string contents) =>
        Write(path, temporary => File.WriteAllText(temporary, contents, s_utf8));

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="writeTemporary"/> writes to the path it is given.</summary>
    public static void Write(string path, Action<string> writeTemporary)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            writeTemporary(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    // Cleanup after a failure that is already on its way up; a second failure here would only hide it.
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
