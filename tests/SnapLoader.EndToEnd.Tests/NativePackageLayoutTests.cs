using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// Real packages that ship their native libraries in layouts a flat copy breaks, each published with and without
/// SnapLoader and run under the real runtime with a SnapStart cycle: the same answer, the same libraries loaded, and
/// the same failure where the package fails without SnapLoader.
/// </summary>
[TestClass]
public sealed partial class NativePackageLayoutTests
{

    [TestMethod]
    public void LLamaSharpLoadsTheVariantItsLoaderPicksAndNoOther()
    {
        // LLamaSharp.Backend.Cpu ships libllama.so, libggml*.so and libmtmd.so four times (avx, avx2, avx512, noavx), one
        // SONAME each; LLamaSharp picks a folder by the CPU's features and loads from it by path.
        var (split, plain) = PublishAndRun("""
            <PackageReference Include="LLamaSharp" Version="0.30.0" />
            <PackageReference Include="LLamaSharp.Backend.Cpu" Version="0.30.0" />
            """, "", """
            using System.Runtime.InteropServices;
            using System.Text.Json;
            using LLama.Native;

            namespace Fixture;

            public class Function
            {
                public Stream Handler(Stream input) => new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new
                {
                    info = Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info()),
                    devices = NativeApi.llama_max_devices(),
                }));
            }
            """);

        Assert.AreEqual(plain.Response, split.Response, "the same system info: the same variant's code answers");
        var plainVariants = plain.MappedFiles.Select(f => VariantOnDisk().Match(f)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        var splitVariants = split.MemfdMappings.Select(f => VariantInMemory().Match(f)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.AreEqual(1, plainVariants.Count, "without SnapLoader one variant is mapped: " + string.Join(", ", plain.MappedFiles));
        CollectionAssert.AreEqual(plainVariants, splitVariants, "with SnapLoader the same one, and no other: " + string.Join(", ", split.MemfdMappings));
        Assert.IsFalse(split.MappedFiles.Any(f => f.Contains("/native/", StringComparison.Ordinal) && f.EndsWith(".so", StringComparison.Ordinal)),
            "nothing of the package is mapped from disk");
    }

    [TestMethod]
    public void WhisperFindsTheFolderWhoseFilesAllMoved()
    {
        // Whisper.net checks that runtimes/linux-x64 exists before it loads libwhisper.so from it; at this threshold all
        // four of its libraries move and the folder leaves the deployment.
        var (split, plain) = PublishAndRun("""
            <PackageReference Include="Whisper.net" Version="1.9.1" />
            <PackageReference Include="Whisper.net.Runtime" Version="1.9.1" />
            """, "<SnapLoaderThreshold>400000</SnapLoaderThreshold>", """
            namespace Fixture;

            public class Function
            {
                // The runtime's info, then what the folder holds as .NET lists it.
                public Stream Handler(Stream input)
                {
                    var folder = Path.Combine(Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT")!, "runtimes", "linux-x64");
                    var info = Whisper.net.WhisperFactory.GetRuntimeInfo() ?? "";
                    var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
                    return new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"{info}|{Directory.Exists(folder)}|{string.Join(",", files)}"));
                }
            }
            """, movedFolder: "runtimes/linux-x64");

        StringAssert.Contains(plain.Response, "WHISPER", plain.Output);
        StringAssert.Contains(plain.Response, "|True|libggml-base-whisper.so,", "the control lists the folder's four libraries");
        Assert.AreEqual(plain.Response, split.Response, "the same runtime info, Directory.Exists and Directory.GetFiles: " + split.Output);
        CollectionAssert.Contains(split.MemfdMappings.ToList(), "runtimes_linux-x64_libwhisper.so");
    }

    [TestMethod]
    public void OpenCvFailsOnlyTheCallThatNeedsItsMissingSystemLibrary()
    {
        // libOpenCvSharpExtern.so needs libgtk-3.so.0, which Lambda (and this machine) lack: without SnapLoader the
        // function starts and its OpenCV call fails; with it, the same, and the message says which library is missing.
        var (split, plain) = PublishAndRun("""
            <PackageReference Include="OpenCvSharp4" Version="4.13.0.20261107" />
            <PackageReference Include="OpenCvSharp4.official.runtime.linux-x64" Version="4.13.0.20261107" />
            """, "", """
            namespace Fixture;

            public class Function
            {
                public Stream Handler(Stream input) =>
                    new MemoryStream(System.Text.Encoding.UTF8.GetBytes(OpenCvSharp.Cv2.GetVersionString() ?? ""));
            }
            """, expectAnswer: false);

        foreach (var run in new[] { plain, split })
        {
            Assert.IsTrue(run.CallSequence.Contains("/runtime/invocation/next"), "the init went through:\n" + run.Output);
            Assert.IsFalse(run.CallSequence.Contains("/runtime/init/error"), run.Output);
            Assert.IsTrue(run.CallSequence.Contains("/runtime/invocation/error"), "the OpenCV call failed:\n" + run.Output);
        }
        var error = split.Calls.First(c => c.Path.EndsWith("/error", StringComparison.Ordinal));
        StringAssert.Contains(error.Body!, "libgtk-3.so.0", "the message names the missing library");
        StringAssert.Contains(error.Body!, "SNAP1023", "and SnapLoader's code");
        Assert.AreEqual(plain.Calls.First(c => c.Path.EndsWith("/error", StringComparison.Ordinal)).ErrorType, error.ErrorType, "the same kind of failure");
    }

    /// <summary>
    /// The function published with SnapLoader and without it, each run under the real runtime with a SnapStart cycle on
    /// the same event.
    /// </summary>
    private static (LambdaRun Split, LambdaRun Plain) PublishAndRun(string references, string properties, string code,
        string? movedFolder = null, bool expectAnswer = true)
    {
        var project = FunctionProject.Create(references, "<RuntimeIdentifier>linux-x64</RuntimeIdentifier>" + properties, code);
        var eventFile = project.WriteEvent("{}");
        project.Publish([]).EnsureSuccess("dotnet publish");
        var publish = project.PublishFolder("linux-x64");
        if (movedFolder is not null)
        {
            Assert.IsFalse(Directory.Exists(Path.Combine(publish, movedFolder)), $"{movedFolder} left the deployment");
        }
        var plainFolder = project.PublishWithoutSnapLoader();

        var split = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"), expectSuccess: expectAnswer);
        var plain = LambdaRun.Start(plainFolder, FunctionProject.Handler, eventFile, expectSuccess: expectAnswer);
        Assert.IsTrue(split.SnapStartHooksRan, split.Output);
        return (split, plain);
    }

    [GeneratedRegex(@"/native/(avx|avx2|avx512|noavx)/lib[^/]+\.so$")]
    private static partial Regex VariantOnDisk();

    [GeneratedRegex(@"^runtimes_linux-x64_native_(avx|avx2|avx512|noavx)_lib")]
    private static partial Regex VariantInMemory();
}
