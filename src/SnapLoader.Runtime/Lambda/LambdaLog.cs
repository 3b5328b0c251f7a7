using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace SnapLoader.Runtime;

/// <summary>The levels of SnapLoader's lines.</summary>
internal enum LambdaLogLevel
{
    /// <summary>A routine line, one per phase.</summary>
    Information,

    /// <summary>Something a user should fix, though the load goes on.</summary>
    Warning,

    /// <summary>The load failed.</summary>
    Error,
}

/// <summary>
/// One line per phase, which Lambda sends to CloudWatch. Under the Lambda runtime client the lines go through
/// Amazon.Lambda.Core's LambdaLogger (<see cref="LambdaCoreLogger"/>) with their own level, so that the runtime writes
/// them in the function's log format (text, or JSON with each field a property of the record) and drops those below
/// AWS_LAMBDA_LOG_LEVEL; anything written to standard error there would show at Error level. Without a runtime client
/// (local runs, tests, a function without Amazon.Lambda.Core) they go to standard error: plain text, or a record in
/// Lambda's JSON log format when AWS_LAMBDA_LOG_FORMAT=JSON.
/// </summary>
internal static class LambdaLog
{
    /// <summary>The <c>logger</c> of every line.</summary>
    internal const string LoggerName = "SnapLoader";

    /// <summary>The placeholders SnapLoader puts in every template, besides the fields': none of the fields may use them.</summary>
    internal const string LoggerPlaceholder = "logger";
    internal const string CodePlaceholder = "code";
    internal const string TextPlaceholder = "text";

    private static readonly bool s_json = string.Equals(Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_FORMAT"), "JSON", StringComparison.OrdinalIgnoreCase);
    private static readonly Lazy<LambdaCoreLogger?> s_lambdaLogger = new(LambdaCoreLogger.TryBind);

    public static void Info(string message, IReadOnlyDictionary<string, object?>? fields = null) => Write(LambdaLogLevel.Information, message, fields, code: null);

    public static void Warn(string message, IReadOnlyDictionary<string, object?>? fields = null) => Write(LambdaLogLevel.Warning, message, fields, code: null);

    /// <summary>The line of a failed load: its code and its message. Never throws, so the failure itself is what leaves.</summary>
    public static void Error(SnapLoaderException failure)
    {
        try
        {
            Write(LambdaLogLevel.Error, MessageWithoutCode(failure), fields: null, failure.Code);
        }
        catch (Exception)
        {
            // The exception carries the same code and message to whoever catches it; a log that cannot be written
            // must not replace it.
        }
    }

    /// <summary>The level's name for <c>LambdaLogger.Log</c>: RuntimeSupport parses it as its own LogLevel.</summary>
    internal static string RuntimeLevel(LambdaLogLevel level) => level switch
    {
        LambdaLogLevel.Information => "Information",
        LambdaLogLevel.Warning => "Warning",
        _ => "Error",
    };

    /// <summary>The level's label in SnapLoader's own lines (<c>SnapLoader INFO: ...</c>).</summary>
    internal static string FallbackLabel(LambdaLogLevel level) => level switch
    {
        LambdaLogLevel.Information => "INFO",
        LambdaLogLevel.Warning => "WARN",
        _ => "ERROR",
    };

    /// <summary>
    /// The message template and its arguments for LambdaLogger: <c>{logger}: [{code}: ]message key={key}...</c>, with
    /// each field's value an argument, so the text format renders <c>SnapLoader: download: ... bytes=70156529</c> and the
    /// JSON format adds <c>"logger"</c>, <c>"bytes"</c> (a number) and the other fields to the record.
    /// </summary>
    /// <remarks>
    /// RuntimeSupport's parser takes <c>{</c> in the template as the start of a placeholder and keeps an escaped
    /// <c>{{</c> doubled in what it renders, so no escaping makes a brace come out literally. A message with a brace (a
    /// path or an S3 key) is therefore passed as the value of <c>{text}</c>: values are rendered as they are. A lone
    /// <c>}</c> is literal in a template and stays in it.
    /// </remarks>
    internal static (string Template, object[] Arguments) Template(string message, IReadOnlyDictionary<string, object?>? fields, string? code)
    {
        var template = new StringBuilder();
        var arguments = new List<object>(3 + (fields?.Count ?? 0));
        Placeholder(LoggerPlaceholder, LoggerName).Append(": ");
        if (code is not null)
        {
            Placeholder(CodePlaceholder, code).Append(": ");
        }
        if (message.Contains('{', StringComparison.Ordinal))
        {
            Placeholder(TextPlaceholder, message);
        }
        else
        {
            template.Append(message);
        }
        foreach (var (key, value) in fields ?? new Dictionary<string, object?>())
        {
            Debug.Assert(IsPlaceholderName(key) && key is not (LoggerPlaceholder or CodePlaceholder or TextPlaceholder), $"field name '{key}'");
            template.Append(' ').Append(key).Append('=');
            Placeholder(key, Argument(value));
        }
        return (template.ToString(), arguments.ToArray());

        StringBuilder Placeholder(string name, object value)
        {
            arguments.Add(value);
            return template.Append('{').Append(name).Append('}');
        }
    }

    /// <summary>Today's line on <paramref name="writer"/>: plain text, or SnapLoader's own record in Lambda's JSON log format.</summary>
    internal static void WriteFallback(TextWriter writer, bool json, LambdaLogLevel level, string message, IReadOnlyDictionary<string, object?>? fields, string? code)
    {
        var label = FallbackLabel(level);
        var text = code is null ? message : $"{code}: {message}";
        if (!json)
        {
            var suffix = fields is null ? "" : " " + string.Join(" ", fields.Select(f => $"{f.Key}={f.Value}"));
            writer.WriteLine($"SnapLoader {label}: {text}{suffix}");
            return;
        }
        var record = new Dictionary<string, object?>
        {
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["level"] = label,
            ["logger"] = LoggerName,
            ["message"] = text,
        };
        if (code is not null)
        {
            record["code"] = code;
        }
        foreach (var (key, value) in fields ?? new Dictionary<string, object?>())
        {
            record[key] = value;
        }
        writer.WriteLine(JsonSerializer.Serialize(record));
    }

    private static void Write(LambdaLogLevel level, string message, IReadOnlyDictionary<string, object?>? fields, string? code)
    {
        try
        {
            if (s_lambdaLogger.Value is { IsTakenOver: true } lambdaLogger)
            {
                var (template, arguments) = Template(message, fields, code);
                lambdaLogger.Log(RuntimeLevel(level), template, arguments);
                return;
            }
        }
        catch (Exception)
        {
            // A runtime client whose logging fails: the line still reaches standard error below.
        }
        WriteFallback(Console.Error, s_json, level, message, fields, code);
    }

    /// <summary>The exception's message without the <c>SNAPxxxx: </c> that <see cref="SnapLoaderException"/> prefixes.</summary>
    private static string MessageWithoutCode(SnapLoaderException failure)
    {
        var prefix = failure.Code + ": ";
        return failure.Message.StartsWith(prefix, StringComparison.Ordinal) ? failure.Message[prefix.Length..] : failure.Message;
    }

    /// <summary>
    /// A field's value as RuntimeSupport should see it: numbers and booleans as they are (JSON numbers and booleans),
    /// everything else as its text, as the plain-text line shows it; null as empty text.
    /// </summary>
    private static object Argument(object? value) => value switch
    {
        null => "",
        bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or string => value,
        _ => value.ToString() ?? "",
    };

    private static bool IsPlaceholderName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(name[0]);
}
