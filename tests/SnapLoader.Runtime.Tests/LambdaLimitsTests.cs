using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Lambda's fixed limits applied to a child process that starts SnapLoader with the preload shim, as a function's init
/// does: 1,024 descriptors (prlimit --nofile=1024:1024, soft and hard, as Lambda sets them) and 128 MB of memory
/// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128, Lambda's default).
/// </summary>
[TestClass]
public sealed class LambdaLimitsTests
{
    [TestMethod]
    public void FilesThatDoNotFitTheDescriptorLimitAreRefusedBeforeAnyMemoryFileExists()
    {
        // 1,000 files need 1,001 descriptors with the shim: past 1,024 with what the process holds and the reserve.
        var (manifest, env) = Prepare(DistinctFiles(1000));

        var result = RunLimited(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = StartTests.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.TooManyDescriptors, findings["errorCode"]!.GetValue<string>(), result.Output);
        var message = findings["errorMessage"]!.GetValue<string>();
        StringAssert.Contains(message, "The 1,000 files to load");
        StringAssert.Contains(message, "1,000 paths x 1 (the preload shim's descriptor, which the runtime uses too)");
        StringAssert.Contains(message, "allows 1,024 (soft limit)");
        StringAssert.Contains(message, "Lambda's limit of 1,024 descriptors is fixed");
        StringAssert.Contains(message, "SnapLoaderExclude");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "no memory file was created");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>());
        Assert.IsFalse(result.Output.Contains("download:", StringComparison.Ordinal), "nothing was fetched: " + result.Output);
    }

    [TestMethod]
    public void FilesThatFitTheDescriptorLimitLoadUnderIt()
    {
        // 800 files: one descriptor each (the shim's, which the runtime uses too), with what a small process holds and
        // the reserve still under 1,024; with two each, as before, they would not fit.
        var (manifest, env) = Prepare(DistinctFiles(800));

        var result = RunLimited(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = StartTests.LastJson(result.Output);
        Assert.IsTrue(findings["preloaded"]!.GetValue<bool>());
        Assert.IsTrue(findings["readable"]!.GetValue<bool>(), "every file answers at its original path");
        Assert.AreEqual(800, findings["memfdsOfFiles"]!.GetValue<int>(), "one descriptor per moved file");
        var open = findings["openDescriptors"]!.GetValue<int>();
        Assert.IsTrue(open is >= 800 and <= 1024 - DescriptorBudget.ReserveDescriptors, $"{open} descriptors open after the load");
    }

    [TestMethod]
    public void A1MiBLibraryLoadsAtLambdasDefault128MB()
    {
        var folder = TestPaths.NewTempFolder("limits-input");
        var library = Path.Combine(folder, "libsmall.so");
        File.WriteAllBytes(library, RandomNumberGenerator.GetBytes(1 << 20));
        var (manifest, env) = Prepare([new ArchiveInput("runtimes/linux-x64/native/libsmall.so", library)]);
        env[MemoryLimit.LambdaMemoryVariable] = "128";

        var result = RunLimited(manifest, env);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = StartTests.LastJson(result.Output);
        Assert.IsTrue(findings["readable"]!.GetValue<bool>());
        // What the reserve stands for: the process's peak stays inside 128 MiB with the file's memory on top.
        var peakMiB = findings["vmHwmKiB"]!.GetValue<long>() / 1024.0;
        Assert.IsTrue(peakMiB + 1 < 128, $"peak RSS {peakMiB:N1} MiB");
        Assert.IsTrue(peakMiB * (1 << 20) < MemoryBudget.RuntimeReserveBytes, $"peak RSS {peakMiB:N1} MiB is more than the runtime's reserve");
    }

    [TestMethod]
    public void ALoadThatCannotFit128MBIsStillRefused()
    {
        var folder = TestPaths.NewTempFolder("limits-input");
        var data = Path.Combine(folder, "big.bin");
        File.WriteAllBytes(data, new byte[48 << 20]);
        var (manifest, env) = Prepare([new ArchiveInput("data/big.bin", data)]);
        env[MemoryLimit.LambdaMemoryVariable] = "128";

        var result = RunLimited(manifest, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = StartTests.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, findings["errorCode"]!.GetValue<string>(), result.Output);
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "no memory file was created");
    }

    /// <summary><paramref name="count"/> small files of different content (identical ones would share a memory file).</summary>
    private static List<ArchiveInput> DistinctFiles(int count)
    {
        var folder = TestPaths.NewTempFolder("limits-input");
        return Enumerable.Range(0, count).Select(i =>
        {
            var path = Path.Combine(folder, $"f{i:D4}.bin");
            File.WriteAllText(path, $"file {i}\n");
            return new ArchiveInput($"data/f{i:D4}.bin", path);
        }).ToList();
    }

    /// <summary>An archive of <paramref name="inputs"/> and the manifest the probe reads, in start-only mode.</summary>
    private static (string Manifest, Dictionary<string, string?> Env) Prepare(IReadOnlyList<ArchiveInput> inputs)
    {
        var folder = TestPaths.NewTempFolder("limits");
        var taskRoot = Directory.CreateDirectory(Path.Combine(folder, "task")).FullName;
        var archive = ArchiveWriter.Write(Path.Combine(folder, "archive.zip"), inputs, ArchiveCompression.Zstd, 3, 2, null, CancellationToken.None);
        var entryOf = archive.EntryOfEachInput();
        var files = new JsonArray(inputs.Select(i => (JsonNode)new JsonObject
        {
            ["path"] = i.EntryName,
            ["size"] = entryOf[i.EntryName].Size,
            ["sha256"] = entryOf[i.EntryName].Sha256,
            ["kind"] = i.EntryName.EndsWith(".so", StringComparison.Ordinal) ? "NativeLibrary" : "Data",
            ["soname"] = null,
            ["entry"] = entryOf[i.EntryName].EntryName == i.EntryName ? null : entryOf[i.EntryName].EntryName,
        }).ToArray());
        var manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, new JsonObject
        {
            ["archive"] = new JsonObject { ["fileName"] = "archive.zip", ["sha256"] = archive.Sha256, ["length"] = archive.Length },
            ["files"] = files,
            ["startOnly"] = true,
        }.ToJsonString());
        var env = new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = StartTests.ShimPath,
            ["LAMBDA_TASK_ROOT"] = taskRoot,
            ["SNAPLOADER_ARCHIVE_DIR"] = folder,
            ["SNAPLOADER_TARGET_DIR"] = Path.Combine(folder, "links"),
            // Other tests set it for this process; the child gets only what the test asks for.
            [MemoryLimit.LambdaMemoryVariable] = null,
        };
        return (manifest, env);
    }

    /// <summary>The probe under Lambda's descriptor limit: 1,024, soft and hard.</summary>
    private static ProcessResult RunLimited(string manifest, Dictionary<string, string?> env) =>
        ProcessRunner.Run("prlimit", ["--nofile=1024:1024", "dotnet", StartTests.ProbePath, manifest], Path.GetDirectoryName(manifest)!, env);
}
