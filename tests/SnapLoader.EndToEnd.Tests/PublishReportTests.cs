using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// What the publish says about the deployment beyond what moved, on real packages: the system libraries a library needs
/// that Lambda lacks (SNAP0022, OpenCvSharp), the native files for other platforms (Microsoft.ML.OnnxRuntime's Windows
/// DLLs, SnapLoaderRemoveForeignBinaries), and a publish that moved nothing, which carries no SnapLoader.Runtime.
/// </summary>
[TestClass]
public sealed partial class PublishReportTests
{
    private const string OnnxRuntime = """<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""";

    // Amazon.Lambda.Tools' own arguments to dotnet publish on Linux.
    private static readonly string[] s_lambdaToolsArguments = ["--runtime", "linux-x64", "--self-contained", "false", "/p:GenerateRuntimeConfigurationFiles=true"];

    [TestMethod]
    public void OpenCvSharpsLibraryWarnsForEachLibraryLambdaLacksAndNamesItself()
    {
        // The runtime package is 49 MB: this is its only publish.
        var project = FunctionProject.Create("""
            <PackageReference Include="OpenCvSharp4" Version="4.13.0.20261107" />
            <PackageReference Include="OpenCvSharp4.official.runtime.linux-x64" Version="4.13.0.20261107" />
            """);

        var result = project.Publish(s_lambdaToolsArguments).EnsureSuccess("dotnet publish");

        // readelf -d: libOpenCvSharpExtern.so needs these 24 libraries; Amazon Linux 2023's minimal image and the dotnet10
        // image have glibc's, GCC's C++ runtime and glib2's (microdnf needs it), and none of GTK, X11, cairo, pango,
        // freetype, harfbuzz, libdrm or libatomic.
        string[] missing = ["libfreetype.so.6", "libharfbuzz.so.0", "libgtk-3.so.0", "libgdk-3.so.0", "libpangocairo-1.0.so.0", "libpango-1.0.so.0",
            "libatk-1.0.so.0", "libcairo-gobject.so.2", "libcairo.so.2", "libgdk_pixbuf-2.0.so.0", "libdrm.so.2", "libatomic.so.1", "libX11.so.6"];
        CollectionAssert.AreEquivalent(missing, Snap0022Needs(result.Output, "libOpenCvSharpExtern.so"), result.Output);
        StringAssert.Contains(result.Output, "warning SNAP0022: 'libOpenCvSharpExtern.so' needs 'libgtk-3.so.0' (DT_NEEDED)");
        StringAssert.Contains(result.Output, "so 'libOpenCvSharpExtern.so' will fail to load on Lambda");
        StringAssert.Contains(result.Output, "SnapLoaderProvidedLibraries");

        // A warning: the library still moved, as before.
        StringAssert.Contains(result.Output, "SnapLoader moved 1 files");
        Assert.IsFalse(File.Exists(Path.Combine(project.PublishFolder("linux-x64"), "libOpenCvSharpExtern.so")));
    }

    [TestMethod]
    public void OnnxRuntimeNeedsNothingLambdaLacksAndItsWindowsDllsAreReportedWithTheirSizes()
    {
        var project = FunctionProject.Create(OnnxRuntime);

        var result = project.Publish(s_lambdaToolsArguments).EnsureSuccess("dotnet publish");

        Assert.IsFalse(result.Output.Contains("SNAP0022", StringComparison.Ordinal), result.Output);
        StringAssert.Contains(result.Output, "native files for other platforms than linux-x64, still in the deployment: 2 files, 17.3 MB");
        StringAssert.Contains(result.Output, "17.3 MB  onnxruntime.dll (Windows PE, x86-64)");
        StringAssert.Contains(result.Output, "21.8 KB  onnxruntime_providers_shared.dll (Windows PE, x86-64)");
        var publish = project.PublishFolder("linux-x64");
        Assert.AreEqual(17_253_728, new FileInfo(Path.Combine(publish, "onnxruntime.dll")).Length, "they stay unless asked");
    }

    [TestMethod]
    public void RemoveForeignBinariesLeavesThemOutOfTheFolderAndTheDepsFileAndTheFunctionStillRuns()
    {
        // Without a RID every platform's assets are published under runtimes/, and listed in the deps.json.
        var project = FunctionProject.Create(OnnxRuntime, "<SnapLoaderRemoveForeignBinaries>true</SnapLoaderRemoveForeignBinaries>");

        var result = project.Publish([]).EnsureSuccess("dotnet publish");

        var publish = Path.Combine(project.Directory, "bin", "Release", FunctionProject.TargetFramework, "publish");
        string[] foreign = ["onnxruntime.dll", "onnxruntime_providers_shared.dll", "runtimes/linux-arm64/native/libonnxruntime.so",
            "runtimes/linux-arm64/native/libonnxruntime_providers_shared.so", "runtimes/osx-arm64/native/libonnxruntime.dylib",
            "runtimes/win-arm64/native/onnxruntime.dll", "runtimes/win-x64/native/onnxruntime.dll", "runtimes/win-x64/native/onnxruntime_providers_shared.dll"];
        foreach (var file in foreign)
        {
            Assert.IsFalse(File.Exists(Path.Combine(publish, file)), file);
        }
        Assert.IsTrue(File.Exists(Path.Combine(publish, "runtimes/linux-x64/native/libonnxruntime_providers_shared.so")), "the target RID's own library stays");
        StringAssert.Contains(result.Output, "native files for other platforms than linux-x64, left out of the deployment (SnapLoaderRemoveForeignBinaries):");
        StringAssert.Contains(result.Output, "runtimes/osx-arm64/native/libonnxruntime.dylib (macOS Mach-O, arm64)");
        StringAssert.Contains(result.Output, "runtimes/linux-arm64/native/libonnxruntime.so (ELF, AArch64)");

        var runtimeTargets = JsonNode.Parse(File.ReadAllText(Path.Combine(publish, "Function.deps.json")))!["targets"]![".NETCoreApp,Version=v10.0"]!["Microsoft.ML.OnnxRuntime/1.31.1"]!["runtimeTargets"]!.AsObject();
        foreach (var file in foreign.Where(f => f.StartsWith("runtimes/", StringComparison.Ordinal)))
        {
            Assert.IsFalse(runtimeTargets.ContainsKey(file), $"{file} is still listed in the deps.json");
        }
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/linux-x64/native/libonnxruntime_providers_shared.so"));

        var eventFile = project.WriteEvent("""{"left":"out"}""");
        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder(null));
        Assert.AreEqual("""{"left":"out"}""", run.Response);
    }

    [TestMethod]
    public void APublishThatMovesNothingCarriesNoSnapLoaderRuntimeAndStillRuns()
    {
        var project = FunctionProject.Create(OnnxRuntime, "<SnapLoaderThreshold>1000000000</SnapLoaderThreshold>");

        var result = project.Publish(s_lambdaToolsArguments).EnsureSuccess("dotnet publish");

        StringAssert.Contains(result.Output, "warning SNAP0003");
        var publish = project.PublishFolder("linux-x64");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "libonnxruntime.so")), "nothing moved");
        foreach (var file in new[] { "SnapLoader.Runtime.dll", "libsnaploader_preload.so", "AWSSDK.Core.dll", "AWSSDK.S3.dll", "AWSSDK.Extensions.Numerics.dll", "ZstdSharp.dll", "System.IO.Hashing.dll", "snaploader-exec-wrapper" })
        {
            Assert.IsFalse(File.Exists(Path.Combine(publish, file)), $"{file} is published although nothing moved");
        }
        var deps = File.ReadAllText(Path.Combine(publish, "Function.deps.json"));
        Assert.IsFalse(deps.Contains("SnapLoader.Runtime.dll", StringComparison.Ordinal), deps);
        Assert.IsFalse(deps.Contains("SnapLoader.Runtime.Reference", StringComparison.Ordinal), deps);
        Assert.IsFalse(deps.Contains("AWSSDK.Core.dll", StringComparison.Ordinal), deps);
        var assembly = Path.Combine(publish, "Function.dll");
        CollectionAssert.DoesNotContain(AssemblyReferences(assembly).ToList(), "SnapLoader.Runtime", "the function is compiled without the runtime");
        Assert.IsFalse(AssemblyInspection.HasType(assembly, "SnapLoader.Generated.SnapLoaderBootstrap"));

        // The host starts it: its deps.json lists no assembly that is not there.
        var eventFile = project.WriteEvent("""{"moved":"nothing"}""");
        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile);
        Assert.AreEqual("""{"moved":"nothing"}""", run.Response);
    }

    [TestMethod]
    public void AFunctionThatReferencesSnapLoaderRuntimeItselfKeepsItWhenNothingMoves()
    {
        var project = FunctionProject.Create($"""<PackageReference Include="SnapLoader.Runtime" Version="{TestRun.Feed.Version}" />""",
            "<SnapLoaderThreshold>1000000000</SnapLoaderThreshold>");

        project.Publish(s_lambdaToolsArguments).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "SnapLoader.Runtime.dll")));
        Assert.IsTrue(File.Exists(Path.Combine(publish, "AWSSDK.S3.dll")));
        StringAssert.Contains(File.ReadAllText(Path.Combine(publish, "Function.deps.json")), "lib/net8.0/SnapLoader.Runtime.dll");
    }

    /// <summary>The libraries SNAP0022 says <paramref name="library"/> needs, each once (MSBuild repeats warnings in its summary).</summary>
    private static string[] Snap0022Needs(string output, string library) =>
        Snap0022Pattern().Matches(output)
            .Where(m => m.Groups["library"].Value == library)
            .Select(m => m.Groups["needed"].Value)
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    private static IEnumerable<string> AssemblyReferences(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }

    [GeneratedRegex(@"warning SNAP0022: '(?<library>[^']+)' needs '(?<needed>[^']+)'")]
    private static partial Regex Snap0022Pattern();
}
