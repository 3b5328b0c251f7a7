using System.Collections;
using System.Text.Json;
using Amazon.Lambda.RuntimeSupport;
using Amazon.Lambda.RuntimeSupport.Helpers;
using SnapLoader.Runtime;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Usage: LoggerProbe <manifest.json> runtime|core
// runtime: puts the Lambda runtime client's own console logger in place, as Amazon.Lambda.RuntimeSupport does when it
//          starts (it wraps standard output and standard error and takes Amazon.Lambda.Core's LambdaLogger over), reading
//          AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL from this process's environment.
// core:    Amazon.Lambda.Core is there but no runtime client took it over, as in a local run of a function.
// Either way it then starts SnapLoader on an archive that is not there (the failure line), then on the real one, and
// prints one JSON object: what reached standard output and standard error, each through the runtime's writers if any.
var input = JsonDocument.Parse(File.ReadAllText(args[0])).RootElement;
var files = input.GetProperty("files").EnumerateArray().Select(f => new MovedFile(
    f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(), f.GetProperty("sha256").GetString()!,
    Enum.Parse<MovedFileKind>(f.GetProperty("kind").GetString()!))).ToList();
var archive = input.GetProperty("archive");
SnapLoaderManifest Manifest(string fileName) => new(
    new ArchiveLocation(fileName, archive.GetProperty("sha256").GetString()!, archive.GetProperty("length").GetInt64()), "linux-x64", files);

var (realOut, realError) = (Console.Out, Console.Error);
var (capturedOut, capturedError) = (new StringWriter(), new StringWriter());
Console.SetOut(capturedOut);
Console.SetError(capturedError);
if (args[1] == "runtime")
{
    _ = new LogLevelLoggerWriter(new ProcessEnvironment());
}

var findings = new Dictionary<string, object?>();
try
{
    SnapLoaderRuntime.Start(Manifest(input.GetProperty("missingFileName").GetString()!));
    findings["missingFailed"] = false;
}
catch (SnapLoaderException e)
{
    findings["missingFailed"] = true;
    findings["errorCode"] = e.Code;
    findings["errorMessage"] = e.Message;
}
SnapLoaderRuntime.Start(Manifest(archive.GetProperty("fileName").GetString()!));
SnapLoaderRuntime.BeforeSnapshotAsync().AsTask().GetAwaiter().GetResult();

Console.SetOut(realOut);
Console.SetError(realError);
findings["coreLoaded"] = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Amazon.Lambda.Core");
findings["stdout"] = capturedOut.ToString();
findings["stderr"] = capturedError.ToString();
Console.WriteLine(JsonSerializer.Serialize(findings));
return 0;

/// <summary>The runtime client's view of the environment: this process's own.</summary>
internal sealed class ProcessEnvironment : IEnvironmentVariables
{
    public void SetEnvironmentVariable(string variable, string value) => Environment.SetEnvironmentVariable(variable, value);

    public string GetEnvironmentVariable(string variable) => Environment.GetEnvironmentVariable(variable)!;

    public IDictionary GetEnvironmentVariables() => Environment.GetEnvironmentVariables();
}
