using Microsoft.Build.Evaluation;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;
using SnapLoader.Tests;

namespace SnapLoader.Build.Targets.Tests;

/// <summary>
/// A function project that imports targets/ straight from the repository and publishes a real ELF library
/// (libonnxruntime.so, added as a file of the project), built in this process.
/// </summary>
internal sealed class TargetsProject
{
    private TargetsProject(string directory) => Directory = directory;

    public string Directory { get; }
    public string ProjectFile => Path.Combine(Directory, "Function.csproj");
    public string Obj => Path.Combine(Directory, "obj", "Debug", "net10.0", "linux-x64");
    public string Publish => Path.Combine(Directory, "bin", "Debug", "net10.0", "linux-x64", "publish");

    /// <summary>What every deployed class-library function references, and what SNAP0008 looks for.</summary>
    public const string LambdaCoreReference = """<PackageReference Include="Amazon.Lambda.Core" Version="3.2.0" />""";

    /// <summary>
    /// Writes and restores the project with the extra properties and items (Amazon.Lambda.Core is added unless
    /// <paramref name="lambdaCore"/> is false); <paramref name="code"/> replaces the handler class.
    /// </summary>
    public static TargetsProject Create(string properties = "", bool lambdaCore = true, string items = "", string? code = null)
    {
        var directory = TestPaths.NewTempFolder("targets");
        var targets = Path.Combine(TestPaths.RepositoryRoot, "targets");
        // The tests run from bin/<Configuration>/net10.0/; the task assembly was built in the same configuration.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!);
        var tasks = Path.Combine(TestPaths.RepositoryRoot, "src", "SnapLoader.Build.Tasks", "bin", configuration, "net8.0", "SnapLoader.Build.Tasks.dll");
        var runtime = Path.Combine(TestPaths.RepositoryRoot, "src", "SnapLoader.Runtime", "SnapLoader.Runtime.csproj");
        File.Copy(TestPaths.OnnxRuntimeLibrary(), Path.Combine(directory, "libonnxruntime.so"));
        // The AWS Lambda packages, beside the repository where the package mirror does not serve them.
        var shared = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "nuget"));
        var sources = System.IO.Directory.Exists(shared) ? $"<RestoreAdditionalProjectSources>{shared}</RestoreAdditionalProjectSources>" : "";
        File.WriteAllText(Path.Combine(directory, "Function.csproj"), $"""
            <Project>
              <PropertyGroup>
                <_SnapLoaderTasksAssembly>{tasks}</_SnapLoaderTasksAssembly>
              </PropertyGroup>
              <Import Project="Sdk.props" Sdk="Microsoft.NET.Sdk" />
              <Import Project="{targets}/SnapLoader.Build.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>false</SelfContained>
                <Configuration>Debug</Configuration>
                <ImplicitUsings>enable</ImplicitUsings>
                <!-- GenerateDepsFile needs a newer Microsoft.Extensions.DependencyModel than the test host has loaded;
                     the deps.json rewrite is tested by the task and end-to-end tests instead. -->
                <GenerateDependencyFile>false</GenerateDependencyFile>
                {sources}
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <None Include="libonnxruntime.so" CopyToPublishDirectory="PreserveNewest" />
                <ProjectReference Include="{runtime}" />
                {(lambdaCore ? LambdaCoreReference : "")}
                {items}
              </ItemGroup>
              <Import Project="Sdk.targets" Sdk="Microsoft.NET.Sdk" />
              <Import Project="{targets}/SnapLoader.Build.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Function.cs"), code ?? "namespace Fixture; public class Function { public Stream Handler(Stream input) => input; }");
        ProcessRunner.Run("dotnet", ["restore", "Function.csproj", "-nologo"], directory).EnsureSuccess("dotnet restore");
        return new TargetsProject(directory);
    }

    /// <summary>Builds the targets in this process with the global properties; returns the instance and what was logged.</summary>
    public (bool Success, ProjectInstance Instance, BuildLog Log) Build(string[] targets, IDictionary<string, string>? properties = null)
    {
        using var collection = new ProjectCollection(properties ?? new Dictionary<string, string>());
        var instance = new ProjectInstance(ProjectFile, properties ?? new Dictionary<string, string>(), toolsVersion: null, collection);
        var log = new BuildLog();
        var success = instance.Build(targets, [log.CreateLogger()]);
        return (success, instance, log);
    }

    public static Dictionary<string, string> Publishing() => new() { ["_IsPublishing"] = "true" };
}

/// <summary>
/// What an in-process build printed, at normal verbosity. A console logger with a write handler rather than an
/// ILogger of our own: MSTest enumerates the test assembly's types before MSBuildLocator can register, and a type
/// implementing an MSBuild interface would fail to load then.
/// </summary>
internal sealed class BuildLog
{
    private readonly System.Text.StringBuilder _text = new();

    public string Text => _text.ToString();

    public ILogger CreateLogger() => new Microsoft.Build.Logging.ConsoleLogger(LoggerVerbosity.Normal, text => _text.Append(text), _ => { }, () => { });

    /// <summary>The SNAP codes of the errors the build reported.</summary>
    public IReadOnlyList<string> ErrorCodes => Codes("error");

    /// <summary>The SNAP codes of the warnings the build reported (not those NoWarn turned into messages).</summary>
    public IReadOnlyList<string> WarningCodes => Codes("warning");

    /// <summary>The text of the first warning with the code, without a project the logger may append; empty if none.</summary>
    public string Warning(string code) =>
        System.Text.RegularExpressions.Regex.Match(Text, $@"warning {code}: (.*?)(?: \[[^\]]*\])?\r?$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;

    private IReadOnlyList<string> Codes(string kind) =>
        System.Text.RegularExpressions.Regex.Matches(Text, $@"{kind} (SNAP\d{{4}})").Select(m => m.Groups[1].Value).Distinct().ToList();

    public override string ToString() => Text;
}
