using System.Collections;
using Microsoft.Build.Framework;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>A build engine that keeps every event, so tests can assert on codes and messages.</summary>
internal sealed class RecordingBuildEngine : IBuildEngine
{
    public List<BuildErrorEventArgs> Errors { get; } = [];
    public List<BuildWarningEventArgs> Warnings { get; } = [];
    public List<BuildMessageEventArgs> Messages { get; } = [];

    public IEnumerable<string?> ErrorCodes => Errors.Select(e => e.Code);
    public IEnumerable<string?> WarningCodes => Warnings.Select(w => w.Code);
    public string AllText => string.Join("\n", Errors.Select(e => e.Message).Concat(Warnings.Select(w => w.Message)).Concat(Messages.Select(m => m.Message)));

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "test.proj";

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
    /// <summary>Called with each message as it is logged, on the task's thread, before the next one.</summary>
    public Action<string>? OnMessage { get; set; }

    public void LogMessageEvent(BuildMessageEventArgs e)
    {
        Messages.Add(e);
        OnMessage?.Invoke(e.Message ?? "");
    }
    public void LogCustomEvent(CustomBuildEventArgs e) { }

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException("SnapLoader tasks do not build other projects.");
}
