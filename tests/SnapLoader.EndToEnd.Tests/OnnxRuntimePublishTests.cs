using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>Publishes a function that references Microsoft.ML.OnnxRuntime 1.31.1 (libonnxruntime.so is 29 MB).</summary>
[TestClass]
public sealed class OnnxRuntimePublishTests
{
    private const string OnnxRuntime = """<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />""";

    // Exactly what Amazon.Lambda.Tools passes to dotnet publish.
    private static readonly string[] s_lambdaToolsArguments = ["--runtime", "linux-x64", "--self-contained", "false", "/p:GenerateRuntimeConfigurationFiles=true"];

    [TestMethod]
    public void RidPublishMovesTheLibraryOutOfTheFolderAndDepsFileIntoTheArchive()
    {
        var project = FunctionProject.Create(OnnxRuntime);

        var result = project.Publish(s_lambdaToolsArguments).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")), "the library must be gone from the deployment");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "libonnxruntime_providers_shared.so")), "a 14 KB library stays");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "Microsoft.ML.OnnxRuntime.dll")), "managed assemblies stay");

        var native = JsonNode.Parse(File.ReadAllText(Path.Combine(publish, "Function.deps.json")))!["targets"]![".NETCoreApp,Version=v10.0/linux-x64"]!["Microsoft.ML.OnnxRuntime/1.31.1"]!["native"]!.AsObject();
        CollectionAssert.AreEqual(new[] { "runtimes/linux-x64/native/libonnxruntime_providers_shared.so" }, native.Select(p => p.Key).ToArray());

        Assert.IsTrue(File.Exists(Path.Combine(publish, "SnapLoader.Runtime.dll")), "the runtime is published although `dotnet add package` marks SnapLoader.Build PrivateAssets=all");
        var shim = Path.Combine(publish, "libsnaploader_preload.so");
        Assert.IsTrue(File.Exists(shim), "the preload shim comes with SnapLoader.Runtime as a native asset");
        Assert.AreEqual(62, ElfMachine(shim), "x86-64 shim");

        var wrapper = Path.Combine(publish, "snaploader-exec-wrapper");
        Assert.IsTrue(File.GetUnixFileMode(wrapper).HasFlag(UnixFileMode.UserExecute | UnixFileMode.OtherExecute), "the wrapper must be executable");
        Assert.IsFalse(File.ReadAllText(wrapper).Contains('\r'), "the wrapper must have LF line endings");

        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var archiveHash = Sha256Hex.OfFile(archive);
        Assert.AreEqual(archiveHash + ".zip", Path.GetFileName(archive), "the archive is named by its SHA-256");
        var entry = ZipListing.Read(archive).Entries.Single();
        Assert.AreEqual("libonnxruntime.so", entry.Name);
        var libraryHash = Sha256Hex.OfFile(TestPaths.OnnxRuntimeLibrary());
        Assert.AreEqual(libraryHash, ZipListing.Sha256OfEntry(archive, entry));

        var assembly = Path.Combine(publish, "Function.dll");
        Assert.IsTrue(AssemblyInspection.HasType(assembly, "SnapLoader.Generated.SnapLoaderBootstrap"));
        var literals = AssemblyInspection.StringLiterals(assembly);
        CollectionAssert.Contains(literals.ToList(), libraryHash, "the file's SHA-256 is compiled into the function");
        CollectionAssert.Contains(literals.ToList(), archiveHash + ".zip");

        StringAssert.Contains(result.Output, "SnapLoader moved 1 files");
        StringAssert.Contains(result.Output, "AWS_LAMBDA_EXEC_WRAPPER=/var/task/snaploader-exec-wrapper");

        var listing = ProcessRunner.Run("unzip", ["-l", archive], publish).EnsureSuccess("unzip -l");
        StringAssert.Contains(listing.Output, "libonnxruntime.so");
    }

    [TestMethod]
    public void PortablePublishMovesOnlyTheLinuxX64Library()
    {
        var project = FunctionProject.Create(OnnxRuntime, "<SnapLoaderCompression>Deflate</SnapLoaderCompression>");

        project.Publish([]).EnsureSuccess("dotnet publish");

        var publish = Path.Combine(project.Directory, "bin", "Release", FunctionProject.TargetFramework, "publish");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "runtimes/linux-x64/native/libonnxruntime.so")));
        Assert.IsTrue(File.Exists(Path.Combine(publish, "runtimes/linux-arm64/native/libonnxruntime.so")), "another RID's library is not touched");
        Assert.IsTrue(File.Exists(Path.Combine(publish, "runtimes/linux-x64/native/libsnaploader_preload.so")), "the wrapper finds the shim there");

        var runtimeTargets = JsonNode.Parse(File.ReadAllText(Path.Combine(publish, "Function.deps.json")))!["targets"]![".NETCoreApp,Version=v10.0"]!["Microsoft.ML.OnnxRuntime/1.31.1"]!["runtimeTargets"]!.AsObject();
        Assert.IsFalse(runtimeTargets.ContainsKey("runtimes/linux-x64/native/libonnxruntime.so"));
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/linux-arm64/native/libonnxruntime.so"));

        var archive = Directory.GetFiles(project.ArchiveFolder(null), "*.zip").Single();
        var entry = ZipListing.Read(archive).Entries.Single();
        Assert.AreEqual("runtimes/linux-x64/native/libonnxruntime.so", entry.Name);
        Assert.AreEqual(8, entry.Method, "SnapLoaderCompression=Deflate");

        // A deflate archive is one that Python's zipfile reads and verifies entry by entry.
        var check = ProcessRunner.Run("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(z.namelist())", archive], publish);
        Assert.AreEqual(0, check.ExitCode, check.Output);
        StringAssert.Contains(check.Output, "runtimes/linux-x64/native/libonnxruntime.so");
    }

    [TestMethod]
    public void Arm64PublishMovesTheAArch64Library()
    {
        var project = FunctionProject.Create(OnnxRuntime);

        project.Publish(["-r", "linux-arm64", "--self-contained", "false"]).EnsureSuccess("dotnet publish");

        Assert.IsFalse(File.Exists(Path.Combine(project.PublishFolder("linux-arm64"), "libonnxruntime.so")));
        Assert.AreEqual(183, ElfMachine(Path.Combine(project.PublishFolder("linux-arm64"), "libsnaploader_preload.so")), "AArch64 shim");
        var archive = Directory.GetFiles(project.ArchiveFolder("linux-arm64"), "*.zip").Single();
        var entry = ZipListing.Read(archive).Entries.Single();
        Assert.AreEqual(Sha256Hex.OfFile(TestPaths.OnnxRuntimeLibrary("linux-arm64")), ZipListing.Sha256OfEntry(archive, entry));
    }

    [TestMethod]
    public void AnUnsupportedRidFailsWithItsCode()
    {
        var project = FunctionProject.Create(OnnxRuntime);

        var result = project.Publish(["-r", "win-x64", "--self-contained", "false"]);

        Assert.AreNotEqual(0, result.ExitCode);
        StringAssert.Contains(result.Output, "SNAP0001");
        StringAssert.Contains(result.Output, "win-x64");
    }

    [TestMethod]
    public void DisabledPublishesAsUsual()
    {
        var project = FunctionProject.Create(OnnxRuntime, "<SnapLoaderEnabled>false</SnapLoaderEnabled>");

        project.Publish(["-r", "linux-x64", "--self-contained", "false"]).EnsureSuccess("dotnet publish");

        Assert.IsTrue(File.Exists(Path.Combine(project.PublishFolder("linux-x64"), "libonnxruntime.so")));
        Assert.IsFalse(File.Exists(Path.Combine(project.PublishFolder("linux-x64"), "snaploader-exec-wrapper")));
        Assert.IsFalse(AssemblyInspection.HasType(Path.Combine(project.PublishFolder("linux-x64"), "Function.dll"), "SnapLoader.Generated.SnapLoaderBootstrap"));
    }

    // e_machine of an ELF file: 62 x86-64, 183 AArch64.
    private static int ElfMachine(string path)
    {
        var header = new byte[20];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        return header[18] | (header[19] << 8);
    }
}
