using SnapLoader.Tests;

namespace SnapLoader.Native.Tests;

/// <summary>
/// A .NET program started with the x64 shim in LD_PRELOAD serves libonnxruntime.so (Microsoft.ML.OnnxRuntime 1.31.1)
/// from a sealed memfd at an original path that is absent from disk: File.Exists, FileInfo.Length,
/// File.ReadAllBytes, File.OpenWrite (EROFS), [DllImport] and NativeLibrary.Load of that path.
/// </summary>
[TestClass]
public sealed class PreloadedDotnetTests
{
    // Must equal Program.OriginalPath in PreloadProbe: a [DllImport] needs a constant.
    private const string OriginalPath = "/tmp/snaploader-native-probe/task/libonnxruntime.so";

    private static Dictionary<string, string>? s_results;
    private static string s_output = "";

    [ClassInitialize]
    public static void RunProbe(TestContext _)
    {
        var library = TestPaths.OnnxRuntimeLibrary();
        Assert.IsTrue(File.Exists(library), library);
        var probeOut = TestPaths.NewTempFolder("preload-probe");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var project = Path.Combine(TestPaths.RepositoryRoot, "tests", "SnapLoader.Native.Tests", "PreloadProbe", "PreloadProbe.csproj");
        // No MSBuild node reuse: a node left running would hold our output pipe open.
        ProcessRunner.Run(dotnet, ["build", project, "-c", "Debug", "-o", probeOut, "-nologo", "-v:q", "-nodeReuse:false",
                "-p:UseSharedCompilation=false"], TestPaths.RepositoryRoot,
                new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1" })
            .EnsureSuccess("dotnet build PreloadProbe");

        // The directory exists (as /var/task does); the file must not.
        Directory.CreateDirectory(Path.GetDirectoryName(OriginalPath)!);
        File.Delete(OriginalPath);

        var result = ProcessRunner.Run(dotnet, [Path.Combine(probeOut, "PreloadProbe.dll"), library], probeOut,
            new Dictionary<string, string?> { ["LD_PRELOAD"] = NativeBuild.X64.Shim }, TimeSpan.FromMinutes(2));
        s_output = result.Output;
        Assert.AreEqual(0, result.ExitCode, $"probe failed:\n{result.Output}");
        s_results = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);
        Assert.IsFalse(File.Exists(OriginalPath), "the probe's original path exists on disk");
    }

    private static string Result(string key)
    {
        Assert.IsNotNull(s_results, s_output);
        Assert.IsTrue(s_results.TryGetValue(key, out var value), $"the probe printed no {key}:\n{s_output}");
        return value;
    }

    [TestMethod]
    public void ShimIsPreloadedAndRegistersTheMemfd()
    {
        Assert.AreEqual("true", Result("preloaded"), s_output);
        Assert.AreEqual("3", Result("abi"), s_output);
        Assert.AreEqual("true", Result("absent_before"), s_output);
        Assert.AreEqual("0", Result("register"), s_output);
        Assert.AreEqual("true", Result("absent_after"), s_output);
    }

    [TestMethod]
    public void FileExists() => Assert.AreEqual("true", Result("exists"), s_output);

    [TestMethod]
    public void FileInfoLengthIsTheRealLength() => Assert.AreEqual("true", Result("length"), s_output);

    [TestMethod]
    public void ReadAllBytesHasTheRealSha256()
    {
        Assert.AreEqual("true", Result("sha256"), s_output);
        Assert.AreEqual("true", Result("stream_read"), s_output);
    }

    [TestMethod]
    public void OpenWriteFailsReadOnly()
    {
        var outcome = Result("open_write");
        Assert.IsTrue(outcome.StartsWith("IOException:", StringComparison.Ordinal)
            || outcome.StartsWith("UnauthorizedAccessException:", StringComparison.Ordinal), outcome);
        StringAssert.Contains(outcome, "Read-only file system", outcome);
    }

    [TestMethod]
    public void DllImportOfTheOriginalPathLoadsTheMemfd() => Assert.AreEqual("true", Result("dllimport"), s_output);

    [TestMethod]
    public void SameFileNameElsewhereIsNotSubstituted() => Assert.AreEqual("true", Result("other_folder_absent"), s_output);

    [TestMethod]
    public void BareNameLoadsThroughARegisteredAliasOnly()
    {
        Assert.AreEqual("true", Result("bare_name_without_alias_fails"), s_output);
        Assert.AreEqual("0", Result("register_alias"), s_output);
        Assert.AreEqual("true", Result("bare_name_with_alias"), s_output);
    }

    [TestMethod]
    public void NativeLibraryLoadOfTheOriginalPathExportsOrtGetApiBase()
    {
        Assert.AreEqual("true", Result("native_library_load"), s_output);
        StringAssert.StartsWith(Result("version"), "1.31.", s_output);
    }

    [TestMethod]
    public void PInvokeToLibcByNameBypassesTheShimAndTheMainProgramHandleDoesNot()
    {
        // What the README's known limitation says, both halves: [DllImport("libc")] open gets ENOENT for a moved path,
        // the same import resolved to NativeLibrary.GetMainProgramHandle() opens the memory file.
        Assert.AreEqual("true", Result("libc_by_name_bypasses"), s_output);
        Assert.AreEqual("true", Result("libc_in_global_scope"), s_output);
    }
}
