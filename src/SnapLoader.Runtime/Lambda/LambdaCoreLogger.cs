using System.Reflection;

namespace SnapLoader.Runtime;

/// <summary>
/// Amazon.Lambda.Core's LambdaLogger, found by name as <see cref="SnapStartHooks"/> finds SnapshotRestore: every
/// deployed function ships Amazon.Lambda.Core, and SnapLoader must not add a reference to it. Its
/// <c>Log(string level, string message, params object[] args)</c> (Core 2.2 and later, net8.0 build) is where the Lambda
/// runtime client (Amazon.Lambda.RuntimeSupport) takes log lines with their own level: it replaces the logger's private
/// <c>_loggingWithLevelAction</c> with its formatter, which honours AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL.
/// </summary>
internal sealed class LambdaCoreLogger
{
    private const string LambdaLoggerType = "Amazon.Lambda.Core.LambdaLogger, Amazon.Lambda.Core";

    /// <summary>The field a runtime client replaces; the name is Amazon.Lambda.Core's promise to RuntimeSupport.</summary>
    internal const string LevelActionField = "_loggingWithLevelAction";

    private readonly Type _type;
    private readonly Action<string, string, object[]> _log;
    private readonly FieldInfo? _levelAction;

    private LambdaCoreLogger(Type type, Action<string, string, object[]> log, FieldInfo? levelAction)
    {
        _type = type;
        _log = log;
        _levelAction = levelAction;
    }

    /// <summary>The logger, or <see langword="null"/> when Amazon.Lambda.Core (2.2+, net8.0 build) is not there, as in a local run.</summary>
    public static LambdaCoreLogger? TryBind()
    {
        try
        {
            var type = Type.GetType(LambdaLoggerType, throwOnError: false);
            var log = type?.GetMethod("Log", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(string), typeof(object[])]);
            if (type is null || log is null || log.ReturnType != typeof(void))
            {
                return null;
            }
            var levelAction = type.GetField(LevelActionField, BindingFlags.NonPublic | BindingFlags.Static);
            return new LambdaCoreLogger(type, log.CreateDelegate<Action<string, string, object[]>>(), levelAction);
        }
        catch (Exception)
        {
            // An Amazon.Lambda.Core that cannot be loaded or bound (FileLoadException, BadImageFormatException, a Log of
            // another shape): SnapLoader's own lines, rather than a log line that breaks the load.
            return null;
        }
    }

    /// <summary>
    /// Whether a runtime client took the logger over. Until one does, Core's own action prints <c>level: template
    /// Arguments: "..."</c> to standard output, which is worse than SnapLoader's own line: that is the case of a unit test
    /// or a local run of a function that ships Amazon.Lambda.Core. A Core without the field is trusted.
    /// </summary>
    public bool IsTakenOver => _levelAction is null
        || (_levelAction.GetValue(null) is Delegate action && action.Method.DeclaringType != _type);

    /// <summary>Logs <paramref name="template"/> at <paramref name="level"/> with its placeholders' values, in order.</summary>
    public void Log(string level, string template, object[] arguments) => _log(level, template, arguments);
}
