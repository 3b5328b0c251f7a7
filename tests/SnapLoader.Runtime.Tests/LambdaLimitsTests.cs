using System.Security.Cryptography;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Lambda's fixed limits applied to a child process that starts SnapLoader with the preload shim, as a function's init
/// does: 1,024 descriptors (prlimit --nofile=1024:1024, soft and hard, as Lambda sets them), 128 MB of memory
/// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128, Lambda's default) and a real memory cgroup capped without swap
/// (<see cref="MemoryCgroup"/>), and a small /tmp of its own for the folder of links.
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
        var findings = ProbeProjects.LastJson(result.Output);
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
        var findings = ProbeProjects.LastJson(result.Output);
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
        var findings = ProbeProjects.LastJson(result.Output);
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
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, findings["errorCode"]!.GetValue<string>(), result.Output);
        StringAssert.Contains(findings["errorMessage"]!.GetValue<string>(), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "no memory file was created");
    }

    [TestMethod]
    public void A1MiBLibraryLoadsUnderARealCap128MiB()
    {
        var folder = TestPaths.NewTempFolder("limits-input");
        var library = Path.Combine(folder, "libsmall.so");
        File.WriteAllBytes(library, RandomNumberGenerator.GetBytes(1 << 20));
        var (manifest, env) = Prepare([new ArchiveInput("runtimes/linux-x64/native/libsmall.so", library)]);
        env[MemoryLimit.LambdaMemoryVariable] = "128";
        using var cgroup = CgroupOrInconclusive(128L << 20);

        var result = RunLimited(manifest, env, cgroup);

        Assert.AreEqual(0, cgroup.OomKills, "the OOM killer ended the probe: " + result.Output);
        Assert.AreEqual(0, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        Assert.IsTrue(findings["readable"]!.GetValue<bool>());
        // The cgroup is charged for the pages first touched in it: the heap, the memory file (shmem), kernel memory,
        // and files read for the first time. dotnet's own files, already in the page cache, stay charged to whoever
        // read them first, so the peak is below VmHWM here; on a cold Lambda sandbox it would include them.
        var peakMiB = cgroup.PeakBytes / (1024.0 * 1024.0);
        Console.WriteLine($"cgroup peak {peakMiB:N1} MiB, VmHWM {findings["vmHwmKiB"]!.GetValue<long>() / 1024.0:N1} MiB");
        Assert.IsTrue(cgroup.PeakBytes < MemoryBudget.RuntimeReserveBytes, $"cgroup peak {peakMiB:N1} MiB is more than the runtime's reserve");
    }

    [TestMethod]
    public void ACgroupCapLowerThanTheConfiguredMemoryBinds()
    {
        // 48 MiB fits 512 MB but not 128 MiB less the reserve: only the cgroup's cap refuses it.
        var folder = TestPaths.NewTempFolder("limits-input");
        var data = Path.Combine(folder, "big.bin");
        File.WriteAllBytes(data, new byte[48 << 20]);
        var (manifest, env) = Prepare([new ArchiveInput("data/big.bin", data)]);
        env[MemoryLimit.LambdaMemoryVariable] = "512";
        using var cgroup = CgroupOrInconclusive(128L << 20);

        var result = RunLimited(manifest, env, cgroup);

        Assert.AreEqual(0, cgroup.OomKills, "the OOM killer ended the probe: " + result.Output);
        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        var message = findings["errorMessage"]!.GetValue<string>();
        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, findings["errorCode"]!.GetValue<string>(), message);
        // The child found its own cgroup through /proc/self/cgroup, not a parent's or the variable.
        StringAssert.Contains(message, $"134,217,728 bytes (128 MiB, from {cgroup.LimitFile}, lower than {MemoryLimit.LambdaMemoryVariable}=512)");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "no memory file was created");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>());
    }

    [TestMethod]
    public void MemoryFilesAreChargedToTheCgroup()
    {
        // What the budget rests on: a memory file is RAM of the function's cgroup, like its heap. 48 MiB fits a
        // 256 MiB cap; the cgroup's peak holds them on top of what the probe charges for itself (15 MiB with 1 MiB).
        var folder = TestPaths.NewTempFolder("limits-input");
        var data = Path.Combine(folder, "big.bin");
        File.WriteAllBytes(data, new byte[48 << 20]);
        var (manifest, env) = Prepare([new ArchiveInput("data/big.bin", data)]);
        env[MemoryLimit.LambdaMemoryVariable] = "256";
        using var cgroup = CgroupOrInconclusive(256L << 20);

        var result = RunLimited(manifest, env, cgroup);

        Assert.AreEqual(0, cgroup.OomKills, "the OOM killer ended the probe: " + result.Output);
        Assert.AreEqual(0, result.ExitCode, result.Output);
        Assert.IsTrue(ProbeProjects.LastJson(result.Output)["readable"]!.GetValue<bool>());
        var peakMiB = cgroup.PeakBytes / (1024.0 * 1024.0);
        Console.WriteLine($"cgroup peak {peakMiB:N1} MiB");
        Assert.IsTrue(cgroup.PeakBytes > (48L + 8) << 20, $"cgroup peak {peakMiB:N1} MiB");
    }

    [TestMethod]
    [DataRow("inodes", DisplayName = "no inodes left")]
    [DataRow("both", DisplayName = "no inodes and no blocks left")]
    public void ATmpWithoutSpaceOrInodesFailsNamingTheFolderWithNothingLeft(string taken)
    {
        var result = RunUnderASmallTmp(taken);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        var message = findings["errorMessage"]!.GetValue<string>();
        Assert.AreEqual(RuntimeErrorCodes.TargetDirectoryUnusable, findings["errorCode"]!.GetValue<string>(), message);
        StringAssert.Contains(message, $"'{SnapLoaderRuntime.DefaultTargetDirectory}'");
        StringAssert.Contains(message, "errno 28 (No space left on device)");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers");
        StringAssert.Contains(result.Output, "links left: 0");
    }

    [TestMethod]
    [DataRow("none", DisplayName = "64 KiB and 16 inodes, empty")]
    [DataRow("blocks", DisplayName = "no blocks left, inodes free")]
    public void ASmallTmpHoldsTheLinksEvenWithoutFreeBlocks(string taken)
    {
        // Links to /proc/self/fd/N and their folders take an inode each and no block on tmpfs (short link targets live
        // in the inode), so 64 KiB, or none, is enough for them.
        var result = RunUnderASmallTmp(taken);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        Assert.IsTrue(ProbeProjects.LastJson(result.Output)["readable"]!.GetValue<bool>(), result.Output);
        StringAssert.Contains(result.Output, "links left: 1");
    }

    /// <summary>
    /// The probe, loading a 1 MiB library, with /tmp a small tmpfs of its own (64 KiB, 16 inodes) in its mount
    /// namespace, of which <paramref name="taken"/> ("blocks", "inodes", "both" or "none") is taken first, and the
    /// folder of links at its default, /tmp/snaploader. Everything else lives outside /tmp, as on Lambda, where the
    /// archive comes from S3 and the task root is /var/task: the archive, the task root, and copies of the probe and the
    /// shim (the repository, with the built probe, may itself be under /tmp, as in a clone made there). dotnet wants
    /// three inodes in /tmp itself (its diagnostics socket and two debugger pipes) and goes on silently without them,
    /// so nothing of it is turned off.
    /// </summary>
    private static ProcessResult RunUnderASmallTmp(string taken)
    {
        var input = TestPaths.NewTempFolder("limits-input");
        var library = Path.Combine(input, "libsmall.so");
        File.WriteAllBytes(library, RandomNumberGenerator.GetBytes(1 << 20));
        var outsideTmp = Path.Combine(FolderOutsideTmp(), $"snaploader-limits-{Guid.NewGuid():N}");
        try
        {
            var (manifest, env) = Prepare([new ArchiveInput("runtimes/linux-x64/native/libsmall.so", library)], outsideTmp);
            env["SNAPLOADER_TARGET_DIR"] = null;
            var probe = CopyFolder(Path.GetDirectoryName(StartProbe.ProbePath)!, Path.Combine(outsideTmp, "probe"));
            env["LD_PRELOAD"] = Path.Combine(outsideTmp, Path.GetFileName(StartProbe.ShimPath));
            File.Copy(StartProbe.ShimPath, env["LD_PRELOAD"]!);
            return StartProbe.RunWithOwnMounts(SmallTmpScript, [taken], LimitedCommand(manifest, Path.Combine(probe, Path.GetFileName(StartProbe.ProbePath))), outsideTmp, env);
        }
        finally
        {
            Directory.Delete(outsideTmp, recursive: true);
        }
    }

    /// <summary>A writable folder that a tmpfs over /tmp leaves visible: /var/tmp, else the test's output folder.</summary>
    private static string FolderOutsideTmp()
    {
        foreach (var candidate in new[] { "/var/tmp", AppContext.BaseDirectory })
        {
            var full = Path.GetFullPath(candidate).TrimEnd('/') + "/";
            if (full.StartsWith("/tmp/", StringComparison.Ordinal) || !Directory.Exists(full))
            {
                continue;
            }
            try
            {
                Directory.Delete(Directory.CreateDirectory(Path.Combine(full, $"snaploader-write-check-{Guid.NewGuid():N}")).FullName);
                return full;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not writable: the next one.
            }
        }
        Assert.Inconclusive("No writable folder outside /tmp to hold the probe while a tmpfs covers /tmp.");
        return "";
    }

    /// <summary>Copies <paramref name="source"/>'s files and folders into <paramref name="destination"/>, which it returns.</summary>
    private static string CopyFolder(string source, string destination)
    {
        foreach (var folder in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, folder)));
        }
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        }
        return destination;
    }

    // $1 what to take from the tmpfs first: "blocks", "inodes", "both" or "none"; then the command. The filler is
    // written first, as it needs an inode itself. Prints the links left once the command is done.
    private const string SmallTmpScript = """
        taken=$1; shift
        mount -t tmpfs -o size=64k,nr_inodes=16 tmpfs /tmp || exit 77
        case $taken in blocks|both) dd if=/dev/zero of=/tmp/fill bs=4k 2>/dev/null ;; esac
        case $taken in inodes|both) i=0; while touch "/tmp/f$i" 2>/dev/null; do i=$((i+1)); done ;; esac
        "$@"; status=$?
        echo "links left: $(find /tmp -type l | wc -l)"
        exit $status
        """;

    /// <summary>A cgroup capped at <paramref name="limitBytes"/>; the test is inconclusive where none can be made.</summary>
    private static MemoryCgroup CgroupOrInconclusive(long limitBytes)
    {
        var cgroup = MemoryCgroup.TryCreate(limitBytes, out var whyNot);
        if (cgroup is null)
        {
            Assert.Inconclusive(whyNot);
        }
        return cgroup!;
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

    /// <summary>
    /// An archive of <paramref name="inputs"/> and the manifest the probe reads, in start-only mode, in
    /// <paramref name="folder"/> (a new temporary folder if <see langword="null"/>).
    /// </summary>
    private static (string Manifest, Dictionary<string, string?> Env) Prepare(IReadOnlyList<ArchiveInput> inputs, string? folder = null)
    {
        var (manifest, env, _) = StartProbe.Prepare(folder ?? TestPaths.NewTempFolder("limits"), inputs, startOnly: true);
        return (manifest, env);
    }

    /// <summary>The probe under Lambda's descriptor limit, and in <paramref name="cgroup"/> (its memory cap) if given.</summary>
    private static ProcessResult RunLimited(string manifest, Dictionary<string, string?> env, MemoryCgroup? cgroup = null)
    {
        var command = cgroup?.Enter(LimitedCommand(manifest)) ?? LimitedCommand(manifest);
        return ProcessRunner.Run(command[0], command[1..], Path.GetDirectoryName(manifest)!, env);
    }

    /// <summary>The probe's command under Lambda's descriptor limit: 1,024, soft and hard.</summary>
    private static string[] LimitedCommand(string manifest, string? probe = null) => ["prlimit", "--nofile=1024:1024", .. StartProbe.Command(manifest, probe)];
}
