namespace SnapLoader.Tests;

/// <summary>
/// The packages of this repository as the end-to-end tests' and the benchmarks' publishes get them: packed into a
/// folder feed, named by a nuget.config beside the machine's own sources, with a packages folder of the run's own, so
/// that the version packed is never one an earlier run cached.
/// </summary>
internal sealed class LocalFeed
{
    /// <summary>
    /// The environment for a child <c>dotnet</c>: the build variables of the process that starts it (a test host, or
    /// <c>dotnet run</c>) must not steer the child's builds or its tools'.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> ChildEnvironment = new Dictionary<string, string?>
    {
        ["NUGET_PACKAGES"] = null,
        ["MSBuildExtensionsPath"] = null,
        ["MSBUILD_EXE_PATH"] = null,
        ["MSBuildSDKsPath"] = null,
    };

    private LocalFeed(string root, string version)
    {
        Root = root;
        Version = version;
    }

    /// <summary>The folder of the feed and of the packages folder.</summary>
    public string Root { get; }

    /// <summary>The folder feed.</summary>
    public string Folder => Path.Combine(Root, "feed");

    /// <summary>The packages folder of the publishes that restore from the feed.</summary>
    public string PackagesFolder => Path.Combine(Root, "packages");

    /// <summary>The version Directory.Build.props gave both packages.</summary>
    public string Version { get; }

    /// <summary>SnapLoader.Build's reference in a project, as <c>dotnet add package</c> writes it for a development dependency.</summary>
    public string PackageReference => $"""
        <PackageReference Include="SnapLoader.Build" Version="{Version}">
          <IncludeAssets>runtime; build; native; contentfiles; analyzers; buildtransitive</IncludeAssets>
          <PrivateAssets>all</PrivateAssets>
        </PackageReference>
        """;

    /// <summary>
    /// The AWS Lambda packages built from AWS's public source, beside the repository where the package mirror does
    /// not serve them; null elsewhere, where they come from the machine's own sources.
    /// </summary>
    public static string? SharedPackageSource =>
        Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "nuget")) is var folder && Directory.Exists(folder) ? folder : null;

    /// <summary>Packs SnapLoader.Runtime and SnapLoader.Build into a feed under <paramref name="root"/>.</summary>
    public static LocalFeed Pack(string root)
    {
        var feed = Path.Combine(root, "feed");
        foreach (var project in new[] { "src/SnapLoader.Runtime/SnapLoader.Runtime.csproj", "src/SnapLoader.Build.Tasks/SnapLoader.Build.Tasks.csproj" })
        {
            ProcessRunner.Run("dotnet", ["pack", project, "-c", "Release", "-o", feed, "-nologo"], TestPaths.RepositoryRoot, ChildEnvironment)
                .EnsureSuccess($"dotnet pack {project}");
        }
        // SnapLoader.Build.0.1.0.nupkg: the version Directory.Build.props gave both packages.
        var version = Path.GetFileNameWithoutExtension(Directory.GetFiles(feed, "SnapLoader.Build.*.nupkg").Single())["SnapLoader.Build.".Length..];
        return new LocalFeed(root, version);
    }

    /// <summary>Writes the nuget.config of the projects in <paramref name="directory"/> and below it, which restore from this feed.</summary>
    public void WriteConfig(string directory) =>
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{PackagesFolder}" />
              </config>
              <packageSources>
                <!-- Added to the machine's own sources, which bring the third-party packages. -->
                <add key="snaploader-local" value="{Folder}" />
                {(SharedPackageSource is { } shared ? $"<add key=\"aws-lambda-shared\" value=\"{shared}\" />" : "")}
              </packageSources>
              <fallbackPackageFolders>
                <add key="global" value="{TestPaths.GlobalPackagesFolder}" />
              </fallbackPackageFolders>
            </configuration>
            """);
}
