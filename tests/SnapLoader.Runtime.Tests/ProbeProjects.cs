using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The programs the runtime tests start as children (StartProbe, LoggerProbe): projects of their own beside the tests,
/// each of which prints its findings as one JSON object.
/// </summary>
internal static class ProbeProjects
{
    /// <summary>Builds <c>&lt;name&gt;/&lt;name&gt;.csproj</c> into <paramref name="outputFolder"/> of the test output and returns its assembly.</summary>
    public static string Build(string name, string outputFolder)
    {
        var project = Path.Combine(TestPaths.RepositoryRoot, "tests", "SnapLoader.Runtime.Tests", name, name + ".csproj");
        var output = Path.Combine(AppContext.BaseDirectory, outputFolder);
        ProcessRunner.Run("dotnet", ["build", project, "-o", output, "-nologo", "-v:q"], TestPaths.RepositoryRoot).EnsureSuccess($"dotnet build {name}");
        return Path.Combine(output, name + ".dll");
    }

    /// <summary>A probe's findings: the last line of its output that is a JSON object.</summary>
    public static JsonNode LastJson(string output) =>
        JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
}
