using System.Diagnostics;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.ColdStart;

/// <summary>
/// One published copy of samples/OnnxEmbedding: the sample's own files in a folder of their own (so the two variants
/// never share bin/ or obj/, and nothing is written into the repository), published as a user publishes it
/// (<c>dotnet publish -c Release</c>, the RID from the project), with SnapLoader on or switched off by its own
/// <c>SnapLoaderEnabled=false</c>.
/// </summary>
internal sealed class ColdStartFunction
{
    public const string Handler = "OnnxEmbedding::OnnxEmbedding.Function::Handler";
    private const string SampleName = "OnnxEmbedding";

    private readonly string _projectFolder;

    private ColdStartFunction(string name, string projectFolder, bool withSnapLoader)
    {
        Name = name;
        _projectFolder = projectFolder;
        WithSnapLoader = withSnapLoader;
    }

    /// <summary>The variant's name in the progress lines and the raw figures.</summary>
    public string Name { get; }

    public bool WithSnapLoader { get; }

    public string PublishFolder => Path.Combine(OutputFolder, "publish");

    /// <summary>The archive folder of a publish without a bucket (<c>SnapLoaderArchiveDir</c>'s default); null without SnapLoader.</summary>
    public string? ArchiveFolder => WithSnapLoader ? Path.Combine(OutputFolder, "snaploader") : null;

    public string EventFile => Path.Combine(_projectFolder, "event.json");

    private string OutputFolder => Path.Combine(_projectFolder, "bin", "Release", "net10.0", "linux-x64");

    /// <summary>
    /// Writes the nuget.config and Directory.Build.props that the variants under <paramref name="root"/> share: the
    /// samples' own settings (samples/Directory.Build.props, imported as it is), the packed feed, and a packages
    /// folder of this run, so SnapLoader.Build is always the one just packed. Everything else comes from the
    /// machine's packages folder, as the end-to-end tests restore.
    /// </summary>
    public static void WriteSharedSettings(string root, LocalFeed feed)
    {
        File.WriteAllText(Path.Combine(root, "Directory.Build.props"), $"""
            <Project>
              <Import Project="{Path.Combine(TestPaths.RepositoryRoot, "samples", "Directory.Build.props")}" />
            </Project>
            """);
        feed.WriteConfig(root);
    }

    /// <summary>Copies the sample's files (not its bin/ or obj/) to <paramref name="folder"/>/OnnxEmbedding.</summary>
    public static ColdStartFunction Create(string name, string folder, bool withSnapLoader)
    {
        var sample = Path.Combine(TestPaths.RepositoryRoot, "samples", SampleName);
        var project = Path.Combine(folder, SampleName);
        Directory.CreateDirectory(project);
        foreach (var file in Directory.GetFiles(sample))
        {
            File.Copy(file, Path.Combine(project, Path.GetFileName(file)));
        }
        return new ColdStartFunction(name, project, withSnapLoader);
    }

    /// <summary>Publishes the function (restore included) and returns the wall time in seconds.</summary>
    public double Publish()
    {
        string[] arguments = ["publish", "-c", "Release", "-nologo"];
        if (!WithSnapLoader)
        {
            arguments = [.. arguments, "-p:SnapLoaderEnabled=false"];
        }
        var clock = Stopwatch.StartNew();
        ProcessRunner.Run("dotnet", arguments, _projectFolder, LocalFeed.ChildEnvironment).EnsureSuccess($"dotnet publish of {Name}");
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The bytes of the deployment: every file of the publish folder.</summary>
    public long DeploymentBytes() =>
        Directory.EnumerateFiles(PublishFolder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
