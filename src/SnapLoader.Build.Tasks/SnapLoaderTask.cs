using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace SnapLoader.Build.Tasks;

/// <summary>
/// Base of every SnapLoader task: runs the work and turns a <see cref="SnapLoaderBuildException"/> into an MSBuild
/// error that carries its SNAP code, so no task can fail without a documented code.
/// </summary>
public abstract class SnapLoaderTask : Microsoft.Build.Utilities.Task
{
    /// <inheritdoc/>
    public sealed override bool Execute()
    {
        try
        {
            ExecuteCore();
        }
        catch (SnapLoaderBuildException e)
        {
            LogError(e.Code, e.Message, e.File);
        }
        catch (OperationCanceledException)
        {
            // The build was cancelled (Ctrl+C); MSBuild reports that itself, and the work cleaned up after itself.
            return false;
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>Does the task's work; throws <see cref="SnapLoaderBuildException"/> for failures the user can act on.</summary>
    protected abstract void ExecuteCore();

    /// <summary>Logs an error with its SNAP code.</summary>
    protected void LogError(string code, string message, string? file = null) =>
        Log.LogError(subcategory: null, errorCode: code, helpKeyword: null, file: file, lineNumber: 0, columnNumber: 0,
            endLineNumber: 0, endColumnNumber: 0, message: message);

    /// <summary>Logs a warning with its SNAP code.</summary>
    protected void LogWarning(string code, string message, string? file = null) =>
        Log.LogWarning(subcategory: null, warningCode: code, helpKeyword: null, file: file, lineNumber: 0, columnNumber: 0,
            endLineNumber: 0, endColumnNumber: 0, message: message);

    /// <summary>Logs a line that shows at normal verbosity.</summary>
    protected void LogHigh(string message) => Log.LogMessage(MessageImportance.High, message);
}
