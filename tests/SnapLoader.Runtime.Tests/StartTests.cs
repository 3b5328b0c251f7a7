using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// <see cref="SnapLoaderRuntime.Start"/> as the bootstrap calls it, in a child process with the preload shim, on an
/// archive of libonnxruntime.so and ResNet18.onnx written by the build's own writer. The files are never on disk
/// under the task root: whatever reads them there reads the memory files.
/// </summary>
[TestClass]
public sealed class StartTests
{
    [TestMethod]
    public void StartLoadsVerifiesRegistersAndRestores()
    {
        var (manifest, env, taskRoot) = StartProbe.PrepareOnnx();

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.IsTrue(findings["preloaded"]!.GetValue<bool>());
        foreach (var (path, hash) in findings["hashes"]!.AsObject())
        {
            Assert.AreEqual(ExpectedHash(path), hash!.GetValue<string>(), $"{path} read at its original path");
            Assert.IsFalse(File.Exists(Path.Combine(taskRoot, path)), "the file must not exist on disk");
        }
        Assert.IsTrue(findings["ortApiBase"]!.GetValue<bool>(), "[DllImport(\"onnxruntime\")] reached the library");
        Assert.IsTrue(findings["inference"]!.GetValue<int>() > 0, "ONNX Runtime's managed API ran ResNet18 from its original path");
        Assert.IsTrue(findings["mapsMemfd"]!.GetValue<bool>(), "/proc/self/maps shows the library mapped from its memfd");
        Assert.IsTrue(findings["linksAfterRestore"]!.GetValue<bool>(), "the after-restore hook recreated the links");
        Assert.AreEqual(2, findings["descriptors"]!.GetValue<int>());
        Assert.IsTrue(findings["manualRegistered"]!.GetValue<bool>(), "CreateSymlinks registered a manual file's original path");
        Assert.AreEqual(RuntimeErrorCodes.ShimRegistrationFailed, findings["manualClash"]!.GetValue<string>(), "a manual file cannot take a path Start registered");
        Assert.IsTrue(findings["manualEarlierKept"]!.GetValue<bool>(), "the failed call took back only its own paths");
        StringAssert.Contains(result.Output, "SnapLoader INFO: ready: 2 files");
    }

    [TestMethod]
    public void LogLinesFollowLambdasJsonFormatWhenAskedTo()
    {
        var (manifest, env, _) = StartProbe.PrepareOnnx();
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON";

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var records = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith('{') && l.Contains("\"logger\":\"SnapLoader\"", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l)!)
            .ToList();
        Assert.IsTrue(records.Count >= 4, result.Output);
        Assert.IsTrue(records.All(r => r["level"] is not null && r["timestamp"] is not null && r["message"] is not null));
        Assert.IsTrue(records.Any(r => r["message"]!.GetValue<string>().StartsWith("ready", StringComparison.Ordinal) && r["ms"] is not null));
        Assert.IsFalse(result.Output.Contains("SnapLoader INFO:", StringComparison.Ordinal), "no plain-text lines in JSON mode");

        // One record per stage, in order, each with its bytes and the time it was busy.
        var stages = records.Select(r => r["message"]!.GetValue<string>().Split(':')[0]).ToList();
        CollectionAssert.IsSubsetOf(new[] { "download", "decode", "verify", "write", "register", "load", "ready" }, stages, result.Output);
        var total = new FileInfo(TestPaths.OnnxRuntimeLibrary()).Length + new FileInfo(TestPaths.ResNet18Model).Length;
        JsonNode Stage(string name) => records.First(r => r["message"]!.GetValue<string>().StartsWith(name + ":", StringComparison.Ordinal));
        Assert.AreEqual(total, Stage("verify")["bytes"]!.GetValue<long>(), "every byte was hashed once");
        Assert.AreEqual(total, Stage("write")["bytes"]!.GetValue<long>());
        var downloaded = Stage("download")["bytes"]!.GetValue<long>();
        Assert.IsTrue(downloaded > 0 && downloaded < total, $"the compressed bytes were read, once: {downloaded:N0}");
        Assert.IsTrue(Stage("decode")["bytes"]!.GetValue<long>() > downloaded, "zstd entries decode to more than was read");
        foreach (var stage in new[] { "download", "decode", "verify", "write" })
        {
            var busy = Stage(stage)["busyMs"]!.GetValue<long>();
            Assert.IsTrue(busy >= 0 && busy <= Stage(stage)["ms"]!.GetValue<long>() * (Environment.ProcessorCount * 2 + 1), $"{stage}: {busy} ms busy");
        }
    }

    [TestMethod]
    public void AHashMismatchFailsWithNothingLeftOpen()
    {
        var (manifest, env, _) = StartProbe.PrepareOnnx(corruptHash: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        StringAssert.StartsWith(findings["errorCode"]!.GetValue<string>(), "SNAP1");
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "ResNet18.onnx");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed again");
    }

    [TestMethod]
    public void ALibraryThatCannotLoadFailsOnlyTheCodeThatOpensIt()
    {
        // Libraries load when used: the init goes through, the other files answer, and the broken one fails its user
        // with SnapLoader's code and the loader's reason, by path (through the shim) and by P/Invoke name (the resolver).
        var (manifest, env, _) = StartProbe.PrepareOnnx(brokenLibrary: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.IsTrue(findings["ortApiBase"]!.GetValue<bool>(), "the other library loads when P/Invoke asks for it");
        StringAssert.Contains(findings["brokenByPath"]!.GetValue<string>(), "libbroken.so", "the loader refuses it by its own path");
        var byName = findings["brokenByName"]!.GetValue<string>();
        StringAssert.Contains(byName, RuntimeErrorCodes.LibraryLoadFailed);
        StringAssert.Contains(byName, "libbroken.so");
        StringAssert.Contains(result.Output, "load: 0 native libraries at init, 2 when first opened");
    }

    [TestMethod]
    public void ALibraryAskedToLoadAtInitThatFailsTakesBackEveryRegistration()
    {
        // Everything verifies and is registered; then the dynamic loader refuses the library the user asked to load
        // at init (it is not an ELF file).
        var (manifest, env, _) = StartProbe.PrepareOnnx(brokenLibrary: true, brokenAtInit: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.LibraryLoadFailed, findings["errorCode"]!.GetValue<string>(), result.Output);
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "libbroken.so");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "the runtime's memory files and the shim's duplicates are all released");
        Assert.AreEqual(0, findings["devNullAdded"]!.GetValue<int>(), "the shim's duplicates are closed, not left on /dev/null, and so is its /dev/null");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers any more");
    }

    [TestMethod]
    public void IdenticalFilesShareOneMemoryFileAtEveryPathAndAfterRestore()
    {
        var (manifest, env, taskRoot) = StartProbe.PrepareOnnx(identicalCopy: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        var hashes = findings["hashes"]!.AsObject();
        Assert.AreEqual(3, hashes.Count);
        Assert.AreEqual(Sha256Hex.OfFile(TestPaths.ResNet18Model), hashes[StartProbe.CopyPath]!.GetValue<string>(), "the copy reads the model's bytes at its own original path");
        Assert.IsFalse(File.Exists(Path.Combine(taskRoot, StartProbe.CopyPath)), "the copy must not exist on disk");
        var fds = findings["fds"]!.AsObject();
        Assert.AreEqual(fds["models/ResNet18.onnx"]!.GetValue<int>(), fds[StartProbe.CopyPath]!.GetValue<int>(), "both paths are one memory file");
        Assert.AreNotEqual(fds["libonnxruntime.so"]!.GetValue<int>(), fds[StartProbe.CopyPath]!.GetValue<int>());
        Assert.AreEqual(2, findings["memfdsOfFiles"]!.GetValue<int>(), "one memory file per archive entry");
        Assert.IsTrue(findings["linksAfterRestore"]!.GetValue<bool>(), "the links of both paths came back after restore");
        Assert.IsTrue(findings["inference"]!.GetValue<int>() > 0);
        StringAssert.Contains(result.Output, "SnapLoader INFO: ready: 3 files");
        StringAssert.Contains(result.Output, "write: 2 sealed memory files for 3 files (identical files share one)");
    }

    [TestMethod]
    public void ACopyWithAnotherHashFailsTheStartWithNothingLeftOpenOrRegistered()
    {
        var (manifest, env, _) = StartProbe.PrepareOnnx(identicalCopy: true, corruptCopyHash: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.HashMismatch, findings["errorCode"]!.GetValue<string>());
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), $"'{StartProbe.CopyPath}', stored as the entry 'models/ResNet18.onnx'");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed again");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers");
    }

    [TestMethod]
    public void AFailureAfterIdenticalFilesWereRegisteredReleasesTheSharedMemoryFileAtEveryPath()
    {
        // Both paths of the shared memory file are registered (the shim holds a duplicate for each) and linked when the
        // library asked for at init fails: every registration and the one memory file go.
        var (manifest, env, _) = StartProbe.PrepareOnnx(brokenLibrary: true, brokenAtInit: true, identicalCopy: true);

        var result = StartProbe.Run(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.LibraryLoadFailed, findings["errorCode"]!.GetValue<string>(), result.Output);
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "the runtime's memory files and the shim's duplicates are all released");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers any more");
    }

    private static string ExpectedHash(string relativePath) => Sha256Hex.OfFile(relativePath.EndsWith(".onnx", StringComparison.Ordinal)
        ? TestPaths.ResNet18Model
        : TestPaths.OnnxRuntimeLibrary());
}
