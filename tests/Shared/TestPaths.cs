namespace SnapLoader.Tests;

/// <summary>Where the tests find the repository and the real payloads that NuGet restored.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> s_repositoryRoot = new(FindRepositoryRoot);

    /// <summary>The folder that holds SnapLoader.Build.sln.</summary>
    public static string RepositoryRoot => s_repositoryRoot.Value;

    /// <summary>The global packages folder restore used (NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    public static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>
    /// The extracted folder of a package the test projects download (PackageDownload in their .csproj),
    /// for example <c>Package("Microsoft.ML.OnnxRuntime", "1.31.1")</c>.
    /// </summary>
    public static string Package(string id, string version)
    {
        var folder = Path.Combine(GlobalPackagesFolder, id.ToLowerInvariant(), version);
        if (!Directory.Exists(folder))
        {
            throw new InvalidOperationException(
                $"Package {id} {version} is not in {GlobalPackagesFolder}: restore the test project first (dotnet restore SnapLoader.Build.sln).");
        }
        return folder;
    }

    /// <summary>libonnxruntime.so (x86-64) from Microsoft.ML.OnnxRuntime 1.31.1.</summary>
    public static string OnnxRuntimeLibrary(string rid = "linux-x64") =>
        Path.Combine(Package("Microsoft.ML.OnnxRuntime", "1.31.1"), "runtimes", rid, "native", "libonnxruntime.so");

    /// <summary>The native folder of libtorch-cpu-linux-x64 2.10.0.</summary>
    public static string LibTorchNativeFolder =>
        Path.Combine(Package("libtorch-cpu-linux-x64", "2.10.0"), "runtimes", "linux-x64", "native");

    /// <summary>ResNet18.onnx from Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1.</summary>
    public static string ResNet18Model =>
        Path.Combine(Package("Microsoft.ML.DnnImageFeaturizer.ResNet18", "0.23.1"), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);

    /// <summary>A new empty folder under the system temp folder, unique to this call.</summary>
    public static string NewTempFolder(string prefix)
    {
        var folder = Path.Combine(Path.GetTempPath(), "snaploader-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SnapLoader.Build.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SnapLoader.Build.sln above {AppContext.BaseDirectory}.");
    }
}
