using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// Packs SnapLoader.Build and SnapLoader.Runtime from this repository into a folder feed, once per test run, and
/// gives the test publishes their own NuGet cache so a package of the same version packed earlier never leaks in.
/// </summary>
[TestClass]
public static class LocalFeed
{
    /// <summary>Version written by Directory.Build.props.</summary>
    public const string Version = "0.1.0";

    public static string Root { get; private set; } = "";
    public static string Folder => Path.Combine(Root, "feed");
    public static string PackagesFolder => Path.Combine(Root, "packages");

    [AssemblyInitialize]
    public static void Pack(TestContext context)
    {
        Root = TestPaths.NewTempFolder("e2e");
        foreach (var project in new[] { "src/SnapLoader.Runtime/SnapLoader.Runtime.csproj", "src/SnapLoader.Build.Tasks/SnapLoader.Build.Tasks.csproj" })
        {
            ProcessRunner.Run("dotnet", ["pack", project, "-c", "Release", "-o", Folder, "-nologo"], TestPaths.RepositoryRoot)
                .EnsureSuccess($"dotnet pack {project}");
        }
    }

    [AssemblyCleanup]
    public static void Clean()
    {
        if (Root.Length > 0 && Environment.GetEnvironmentVariable("SNAPLOADER_KEEP_TEST_FILES") != "1")
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is not worth failing the run for.
            }
        }
    }
}
