using SnapLoader.Tests;

namespace SnapLoader.Benchmarks;

/// <summary>
/// The packages of this repository as the benchmarks' publishes get them: packed into a folder feed, named by a
/// nuget.config as the only source beside the machine's packages folder, with a packages folder of the run's own (so the
/// packed version is never one cached by an earlier run).
/// </summary>
internal static class LocalFeed
{
    /// <summary>
    /// The environment for a child <c>dotnet</c>: the benchmark runs under <c>dotnet run</c>, whose build variables
    /// must not steer the child builds or the tools'.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> ChildEnvironment = new Dictionary<string, string?>
    {
        ["NUGET_PACKAGES"] = null,
        ["MSBuildExtensionsPath"] = null,
        ["MSBUILD_EXE_PATH"] = null,
        ["MSBuildSDKsPath"] = null,
    };

    /// <summary>Packs SnapLoader.Runtime and SnapLoader.Build into <paramref name="feed"/>; returns their version.</summary>
    public static string Pack(string feed)
    {
        foreach (var project in new[] { "src/SnapLoader.Runtime/SnapLoader.Runtime.csproj", "src/SnapLoader.Build.Tasks/SnapLoader.Build.Tasks.csproj" })
        {
            ProcessRunner.Run("dotnet", ["pack", project, "-c", "Release", "-o", feed, "-nologo"], TestPaths.RepositoryRoot, ChildEnvironment)
                .EnsureSuccess($"dotnet pack {project}");
        }
        // SnapLoader.Build.0.1.0.nupkg: the version Directory.Build.props gave both packages.
        return Path.GetFileNameWithoutExtension(Directory.GetFiles(feed, "SnapLoader.Build.*.nupkg").Single())["SnapLoader.Build.".Length..];
    }

    /// <summary>Writes the nuget.config of a project in <paramref name="directory"/> that restores from <paramref name="feed"/>.</summary>
    public static void WriteConfig(string directory, string feed, string packagesFolder) =>
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packagesFolder}" />
              </config>
              <packageSources>
                <add key="snaploader-local" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="global" value="{TestPaths.GlobalPackagesFolder}" />
              </fallbackPackageFolders>
            </configuration>
            """);
}
