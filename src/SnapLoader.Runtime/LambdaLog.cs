using System.Text.Json;

namespace SnapLoader.Runtime;

/// <summary>
/// One line per phase on standard error, which Lambda sends to CloudWatch: plain text, or Lambda's JSON
/// log format when the function is configured for it (AWS_LAMBDA_LOG_FORMAT=JSON).
/// </summary>
internal static class LambdaLog
{
    private static readonly bool s_json = string.Equals(Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_FORMAT"), "JSON", StringComparison.OrdinalIgnoreCase);

    public static void Info(string message, IReadOnlyDictionary<string, object?>? fields = null) => Write("INFO", message, fields);

    public static void Warn(string message, IReadOnlyDictionary<string, object?>? fields = null) => Write("WARN", message, fields);

    private static void Write(string level, string message, IReadOnlyDictionary<string, object?>? fields)
    {
        if (!s_json)
        {
            var suffix = fields is null ? "" : " " + string.Join(" ", fields.Select(f => $"{f.Key}={f.Value}"));
            Console.Error.WriteLine($"SnapLoader {level}: {message}{suffix}");
            return;
        }
        var record = new Dictionary<string, object?>
        {
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["level"] = level,
            ["logger"] = "SnapLoader",
            ["message"] = message,
        };
        foreach (var (key, value) in fields ?? new Dictionary<string, object?>())
        {
            record[key] = value;
        }
        Console.Error.WriteLine(JsonSerializer.Serialize(record));
    }
}
