using System.Globalization;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Keeps file names exactly through MSBuild. The engine stores item specs and metadata escaped and unescapes them when
/// a task reads them, so a value a task sets with <see cref="TaskItem.SetMetadata"/> is unescaped once more: a moved
/// file named <c>%41%2A.bin</c> would be packed as <c>A*.bin</c>, <c>50%25.bin</c> as <c>50%.bin</c>. And the engine
/// trims every piece of an expanded item list, so <c>Remove="@(...)"</c> never matches an item spec that starts or
/// ends with a space: such a file would be moved and still deployed.
/// </summary>
internal static class MSBuildEscaping
{
    /// <summary>Sets metadata to exactly <paramref name="value"/> (escaped for the engine, unescaped by every reader).</summary>
    public static void SetLiteral(ITaskItem item, string name, string value)
    {
        if (item is ITaskItem2 escaping)
        {
            escaping.SetMetadataValueLiteral(name, value);
        }
        else
        {
            item.SetMetadata(name, Escape(value));
        }
    }

    /// <summary>An item whose spec is exactly <paramref name="itemSpec"/>, safe to pass to <c>Remove</c>.</summary>
    public static TaskItem NewItem(string itemSpec) => new(ProtectEnds(Escape(itemSpec)));

    /// <summary>
    /// A copy of <paramref name="item"/> (spec and metadata kept escaped) whose spec survives the trimming of an item
    /// list: the whitespace at its ends is escaped too, which the engine unescapes only after trimming.
    /// </summary>
    public static TaskItem CopyForRemove(ITaskItem item)
    {
        var copy = new TaskItem(item);
        ITaskItem2 escaping = copy;
        escaping.EvaluatedIncludeEscaped = ProtectEnds(escaping.EvaluatedIncludeEscaped);
        return copy;
    }

    /// <summary>The value as MSBuild's own escaping writes it: each of <c>%*?@$();'</c> as <c>%XX</c>.</summary>
    public static string Escape(string value)
    {
        if (value.AsSpan().IndexOfAny("%*?@$();'") < 0)
        {
            return value;
        }
        var escaped = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if ("%*?@$();'".Contains(c))
            {
                AppendEscaped(escaped, c);
            }
            else
            {
                escaped.Append(c);
            }
        }
        return escaped.ToString();
    }

    // An escape is %XX with two hex digits, so only whitespace up to U+00FF can be protected; the others (U+2000
    // and up) are not whitespace that file names carry in practice.
    private static string ProtectEnds(string escaped)
    {
        var start = 0;
        while (start < escaped.Length && IsProtectable(escaped[start]))
        {
            start++;
        }
        var end = escaped.Length;
        while (end > start && IsProtectable(escaped[end - 1]))
        {
            end--;
        }
        if (start == 0 && end == escaped.Length)
        {
            return escaped;
        }
        var result = new StringBuilder(escaped.Length + 8);
        foreach (var c in escaped.AsSpan(0, start))
        {
            AppendEscaped(result, c);
        }
        result.Append(escaped, start, end - start);
        foreach (var c in escaped.AsSpan(end))
        {
            AppendEscaped(result, c);
        }
        return result.ToString();
    }

    private static bool IsProtectable(char c) => char.IsWhiteSpace(c) && c <= '\u00FF';

    private static void AppendEscaped(StringBuilder builder, char c) =>
        builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
}
