using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>A real Lambda-style function project in a temp folder, published through the local feed.</summary>
internal sealed class FunctionProject
{
    private FunctionProject(string directory) => Directory = directory;

    /// <summary>The framework of the functions: Lambda's current managed runtime is dotnet10.</summary>
    public const string TargetFramework = "net10.0";

    /// <summary>The handler of the function <see cref="Create"/> writes unless given other code.</summary>
    public const string Handler = "Function::Fixture.Function::Handler";

    /// <summary>What every deployed class-library function references: the managed runtime loads it from the function.</summary>
    public const string LambdaCoreReference = """<PackageReference Include="Amazon.Lambda.Core" Version="3.2.0" />""";

    public string Directory { get; }
    public string Name => "Function";

    /// <summary>
    /// Writes the project with the given package references (Amazon.Lambda.Core is added unless
    /// <paramref name="lambdaCore"/> is false) and extra properties.
    /// </summary>
    public static FunctionProject Create(string packageReferences, string properties = "", string? code = null, bool lambdaCore = true,
        string targetFramework = TargetFramework)
    {
        if (lambdaCore)
        {
            packageReferences = LambdaCoreReference + "\n" + packageReferences;
        }
        var feed = TestRun.Feed;
        var directory = Path.Combine(feed.Root, "projects", Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "Function.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>{targetFramework}</TargetFramework>
                <!-- As the Lambda project templates have it: the managed runtime starts the function with its runtimeconfig. -->
                <GenerateRuntimeConfigurationFiles>true</GenerateRuntimeConfigurationFiles>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- The mirror serves only some versions of the payloads' dependencies. -->
                <WarningsNotAsErrors>NU1603</WarningsNotAsErrors>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                {feed.PackageReference}
                {packageReferences}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Function.cs"), code ?? """
            namespace Fixture;

            public class Function
            {
                public Stream Handler(Stream input) => input;
            }
            """);
        feed.WriteConfig(directory);
        return new FunctionProject(directory);
    }

    /// <summary>A copy of a project of samples/, restored through the local feed like the others.</summary>
    public static FunctionProject FromSample(string name)
    {
        var project = Create("");
        File.Delete(Path.Combine(project.Directory, "Function.csproj"));
        File.Delete(Path.Combine(project.Directory, "Function.cs"));
        var sample = Path.Combine(TestPaths.RepositoryRoot, "samples", name);
        foreach (var file in System.IO.Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            var target = Path.Combine(project.Directory, Path.GetRelativePath(sample, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return project;
    }

    /// <summary>
    /// Runs <c>dotnet publish</c> with the arguments and returns its output; <paramref name="onLine"/> sees
    /// each line as it is written.
    /// </summary>
    public ProcessResult Publish(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, Action<string>? onLine = null)
    {
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        foreach (var (name, value) in LocalFeed.ChildEnvironment)
        {
            env[name] = value;
        }
        return ProcessRunner.Run("dotnet", ["publish", "-nologo", "-c", "Release", .. arguments], Directory, env, onLine: onLine);
    }

    /// <summary>
    /// Publishes without SnapLoader (SnapLoaderEnabled=false) into a folder of its own beside the project's, for a test
    /// to compare with the function as SnapLoader publishes it; returns that folder.
    /// </summary>
    public string PublishWithoutSnapLoader()
    {
        var folder = Path.Combine(Directory, "plain");
        Publish(["-p:SnapLoaderEnabled=false", "-o", folder]).EnsureSuccess("dotnet publish without SnapLoader");
        return folder;
    }

    /// <summary>Writes <paramref name="json"/> as the event of a <see cref="LambdaRun"/> and returns the file's path.</summary>
    public string WriteEvent(string json)
    {
        var path = Path.Combine(Directory, "event.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>The intermediate folder of a Release build for <paramref name="rid"/>: obj/Release/&lt;framework&gt;/&lt;rid&gt;.</summary>
    public string IntermediateFolder(string rid, string targetFramework = TargetFramework) => Path.Combine(Directory, "obj", "Release", targetFramework, rid);

    public string PublishFolder(string rid, string targetFramework = TargetFramework) => Path.Combine(Directory, "bin", "Release", targetFramework, rid, "publish");

    public string ArchiveFolder(string? rid, string targetFramework = TargetFramework) => rid is null
        ? Path.Combine(Directory, "bin", "Release", targetFramework, "snaploader")
        : Path.Combine(Directory, "bin", "Release", targetFramework, rid, "snaploader");
}
