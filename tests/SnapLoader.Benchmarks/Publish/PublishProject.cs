using System.Diagnostics;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Publish;

/// <summary>
/// A TorchSharp-cpu function project in a folder of its own, restored through a folder feed of the packages built from
/// this repository, the way the end-to-end tests publish (an isolated NuGet cache that falls back to the machine's).
/// </summary>
internal sealed class PublishProject(string directory)
{
    public const string TorchSharpVersion = "0.107.0";
    private const string Rid = "linux-x64";

    public string Directory => directory;

    public string PublishFolder => Path.Combine(directory, "bin", "Release", "net10.0", Rid, "publish");

    public static PublishProject Create(string directory, LocalFeed feed, bool withSnapLoader)
    {
        System.IO.Directory.CreateDirectory(directory);
        var snapLoader = withSnapLoader ? feed.PackageReference : "";
        File.WriteAllText(Path.Combine(directory, "Function.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <!-- The package sources serve only some versions of TorchSharp's dependencies. -->
                <NoWarn>NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                {snapLoader}
                <PackageReference Include="TorchSharp-cpu" Version="{TorchSharpVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Function.cs"), """
            namespace Fixture;

            public class Function
            {
                public Stream Handler(Stream input) => input;
            }
            """);
        feed.WriteConfig(directory);
        return new PublishProject(directory);
    }

    public void Restore() => Run("restore", ["-r", Rid]);

    /// <summary>Removes what a publish left (bin/ and obj/Release/), keeping the restore, so the next publish starts cold.</summary>
    public void Clean()
    {
        foreach (var folder in new[] { Path.Combine(directory, "bin"), Path.Combine(directory, "obj", "Release") })
        {
            if (System.IO.Directory.Exists(folder))
            {
                System.IO.Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>What `dotnet lambda package` runs, without the restore; returns the wall time in seconds.</summary>
    public double Publish()
    {
        var clock = Stopwatch.StartNew();
        Run("publish", ["-c", "Release", "-r", Rid, "--self-contained", "false", "--no-restore", "-p:GenerateRuntimeConfigurationFiles=true"]);
        return clock.Elapsed.TotalSeconds;
    }

    public long PublishedBytes() =>
        System.IO.Directory.EnumerateFiles(PublishFolder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private void Run(string verb, IEnumerable<string> arguments)
    {
        ProcessRunner.Run("dotnet", [verb, "-nologo", .. arguments], directory, LocalFeed.ChildEnvironment).EnsureSuccess($"dotnet {verb} in {directory}");
    }
}
