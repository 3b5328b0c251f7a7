using SnapLoader.Tests;

namespace SnapLoader.Benchmarks;

/// <summary>
/// The nuget.config of a project the benchmarks publish: the packages packed from this repository as its only source,
/// its own packages folder (so the packed version is never one cached by an earlier run), and the machine's global
/// folder as a fallback for everything else.
/// </summary>
internal static class LocalFeedConfig
{
    public static void Write(string directory, string feed, string packagesFolder) =>
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
