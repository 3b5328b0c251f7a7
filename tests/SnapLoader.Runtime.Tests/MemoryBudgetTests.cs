using System.Globalization;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The files to load are checked against the function's memory before the first memory file exists: the limit comes
/// from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else from the cgroup (v2 memory.max, v1 memory.limit_in_bytes).
/// </summary>
[TestClass]
[DoNotParallelize] // Sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE for this process, and counts its memory files.
public sealed class MemoryBudgetTests
{
    private static readonly LoaderSettings s_options = new() { RangeSize = 1 << 20, Parallelism = 4, EntryParallelism = 4, AllowAnyRangeSize = true };
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("memory");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public async Task ALoadThatDoesNotFitTheLambdaMemorySizeIsRefusedBeforeAnythingIsAllocated()
    {
        // 96 MiB of files in two zstd entries of 32 MiB frames; 200 MB of function memory leave 200 - 96 (runtime) - 8 (4
        // fetch slots of a frame's chunk and decoder input) - 10 (two entries' chunks and decoder input) = 86 MiB.
        var (archive, files) = PackZeros(("data/a.bin", 64 << 20), ("data/b.bin", 32 << 20));
        var before = TestArchives.OpenMemfds();

        SnapLoaderException error;
        await using (var source = new InterceptingSource(LocalFileArchiveSource.Open(archive)))
        using (new EnvironmentScope(new() { [MemoryLimit.LambdaMemoryVariable] = "200" }))
        {
            error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, files, null, s_options, CancellationToken.None));
            Assert.AreEqual(0, source.RangeOpens, "nothing may be fetched");
        }

        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, error.Code);
        StringAssert.Contains(error.Message, "100,663,296 bytes", "the files' total");
        StringAssert.Contains(error.Message, "209,715,200 bytes", "the function's memory");
        StringAssert.Contains(error.Message, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=200");
        StringAssert.Contains(error.Message, "at least 210 MB");
        StringAssert.Contains(error.Message, archive);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());

        // The number the message asks for is enough.
        await using var again = LocalFileArchiveSource.Open(archive);
        using var scope = new EnvironmentScope(new() { [MemoryLimit.LambdaMemoryVariable] = "210" });
        TestArchives.DisposeAll(await ArchiveLoader.LoadAsync(again, files, null, s_options, CancellationToken.None));
    }

    [TestMethod]
    [DataRow("512", 512L << 20)]
    [DataRow("10240", 10240L << 20)]
    [DataRow("", null)]
    [DataRow("0", null)]
    [DataRow("-128", null)]
    [DataRow("1.5", null)]
    [DataRow("lots", null)]
    public void TheLambdaVariableIsMiB(string value, long? bytes)
    {
        Assert.AreEqual(bytes, MemoryLimit.FromEnvironment(value)?.Bytes);
    }

    [TestMethod]
    public void CgroupV2TakesTheSmallestLimitFromTheProcessCgroupUpToTheRoot()
    {
        var root = Path.Combine(_folder, "cgroup");
        WriteLimit(root, "memory.max", "max\n");
        WriteLimit(root, "lambda/memory.max", "1073741824\n");
        WriteLimit(root, "lambda/function/memory.max", "max\n");
        var self = WriteProcSelfCgroup("0::/lambda/function\n");

        var limit = MemoryLimit.FromCgroup(root, self);

        Assert.AreEqual(1L << 30, limit?.Bytes);
        Assert.AreEqual(Path.Combine(root, "lambda", "memory.max"), limit?.Source);
    }

    [TestMethod]
    public void CgroupV1ReadsTheMemoryControllerAndKnowsItsNoLimitValue()
    {
        var root = Path.Combine(_folder, "cgroup");
        WriteLimit(root, "memory/memory.limit_in_bytes", "9223372036854771712\n");
        WriteLimit(root, "memory/sandbox/memory.limit_in_bytes", "536870912\n");
        var self = WriteProcSelfCgroup("5:cpu,cpuacct:/sandbox\n4:memory:/sandbox\n0::/\n");

        Assert.AreEqual(512L << 20, MemoryLimit.FromCgroup(root, self)?.Bytes);

        File.WriteAllText(Path.Combine(root, "memory", "sandbox", "memory.limit_in_bytes"), "9223372036854771712\n");
        Assert.IsNull(MemoryLimit.FromCgroup(root, self), "v1's largest page-aligned number is no limit");
    }

    [TestMethod]
    public void AHostPathThatTheContainerDoesNotHaveFallsBackToTheMountRoot()
    {
        // Without a cgroup namespace, /proc/self/cgroup names the host's path; the container sees its own cgroup at the root.
        var root = Path.Combine(_folder, "cgroup");
        WriteLimit(root, "memory.max", "268435456\n");
        var self = WriteProcSelfCgroup("0::/system.slice/docker-0123abcd.scope\n");

        Assert.AreEqual(256L << 20, MemoryLimit.FromCgroup(root, self)?.Bytes);
        Assert.IsNull(MemoryLimit.FromCgroup(Path.Combine(_folder, "none"), self), "no cgroup files, no limit");
    }

    [TestMethod]
    public void TheBuffersAreSizedToTheLoad()
    {
        static ZipEntryRecord Entry(ushort method, long compressed, long size) => new("f", method, 0, compressed, size, 0, false, 1);
        var defaults = new LoaderSettings { RangeSize = 16 << 20, Parallelism = 4, EntryParallelism = 4 };

        // A 1 MiB zstd library: one slot (its range, or a frame's chunk and input) and its few chunks, not 80 MiB.
        Assert.AreEqual(5L << 20, MemoryBudget.BufferBytes([Entry(ZipFormat.MethodZstd, 900_000, 1 << 20)], defaults));
        Assert.AreEqual(900_000, MemoryBudget.RangeBufferSize([Entry(ZipFormat.MethodZstd, 900_000, 1 << 20)], defaults));
        // A stored 1 MiB file: a copy chunk and the chunk its hashes read through.
        Assert.AreEqual(2L << 20, MemoryBudget.BufferBytes([Entry(ZipFormat.MethodStored, 1 << 20, 1 << 20)], defaults));
        // A large load reaches the options' bound: 4 ranges of 16 MiB and 4 entries of 5 chunks.
        var large = Enumerable.Range(0, 8).Select(_ => Entry(ZipFormat.MethodZstd, 200L << 20, 400L << 20)).ToList();
        Assert.AreEqual((4L * 16 + 4 * 5) << 20, MemoryBudget.BufferBytes(large, defaults));
        Assert.AreEqual(16 << 20, MemoryBudget.RangeBufferSize(large, defaults));
        // At Lambda's 128 MB the 1 MiB library fits; 48 MiB do not.
        var limit = MemoryLimit.FromEnvironment("128");
        MemoryBudget.Check("a.zip", 1 << 20, 1, MemoryBudget.ReserveBytes([Entry(ZipFormat.MethodZstd, 900_000, 1 << 20)], defaults), limit);
        var big = Entry(ZipFormat.MethodZstd, 10_000, 48L << 20);
        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, Assert.ThrowsExactly<SnapLoaderException>(
            () => MemoryBudget.Check("a.zip", 48L << 20, 1, MemoryBudget.ReserveBytes([big], defaults), limit)).Code);
    }

    [TestMethod]
    public void TheLowerOfTheLambdaMemorySizeAndTheCgroupCounts()
    {
        var environment = MemoryLimit.FromEnvironment("512");
        var cgroup = new MemoryLimit(256L << 20, "/sys/fs/cgroup/memory.max");

        var lower = MemoryLimit.Lower(environment, cgroup)!;
        Assert.AreEqual(256L << 20, lower.Bytes);
        Assert.AreEqual("/sys/fs/cgroup/memory.max, lower than AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", lower.Source);
        Assert.AreSame(environment, MemoryLimit.Lower(environment, new MemoryLimit(1L << 30, "/sys/fs/cgroup/memory.max")));
        Assert.AreSame(environment, MemoryLimit.Lower(environment, null));
        Assert.AreSame(cgroup, MemoryLimit.Lower(null, cgroup));
        Assert.IsNull(MemoryLimit.Lower(null, null));
    }

    [TestMethod]
    public void TheDescriptorBudgetCountsFilesDuplicatesWhatIsOpenAndTheReserve()
    {
        // With the shim one descriptor per path (the shim's, which the runtime uses too) and one in hand:
        // 850 + 1 + 100 + 64 = 1,015 fits 1,024; 900 + 1 + 100 + 64 = 1,065 does not.
        DescriptorBudget.Check("a.zip", 850, 850, 0, shim: true, softLimit: 1024, openNow: 100);
        var error = Assert.ThrowsExactly<SnapLoaderException>(() => DescriptorBudget.Check("a.zip", 900, 900, 0, shim: true, softLimit: 1024, openNow: 100));
        Assert.AreEqual(RuntimeErrorCodes.TooManyDescriptors, error.Code);
        StringAssert.Contains(error.Message, "need 901 file descriptors (900 paths x 1 (the preload shim's descriptor, which the runtime uses too) + 1 while one is registered)");
        StringAssert.Contains(error.Message, "holds 100 now and 64 are kept");
        StringAssert.Contains(error.Message, "1,065, but RLIMIT_NOFILE allows 1,024 (soft limit), about 859 files");
        // Without the shim one descriptor per memory file; with it, identical files' further paths and moved folders count too.
        DescriptorBudget.Check("a.zip", 850, 850, 0, shim: false, softLimit: 1024, openNow: 100);
        StringAssert.Contains(Assert.ThrowsExactly<SnapLoaderException>(
            () => DescriptorBudget.Check("a.zip", 850, 870, 3, shim: true, softLimit: 1024, openNow: 100)).Message, "+ 3 moved folders");
        DescriptorBudget.Check("a.zip", 5000, 5000, 0, shim: true, softLimit: null, openNow: 100); // unlimited: no check
        Assert.AreEqual(3, DescriptorBudget.Folders(["runtimes/linux-x64/native/a.so", "runtimes/linux-x64/native/b.so", "runtimes/c.txt", "top.bin"]));
    }

    [TestMethod]
    public void TheCgroupLimitIsNamedInTheError()
    {
        var root = Path.Combine(_folder, "cgroup");
        WriteLimit(root, "memory.max", "134217728\n");
        var limit = MemoryLimit.FromCgroup(root, WriteProcSelfCgroup("0::/\n"));

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => MemoryBudget.Check("s3://bucket/key.zip", 40L << 20, 3, MemoryBudget.RuntimeReserveBytes, limit));

        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, error.Code);
        StringAssert.Contains(error.Message, "The 3 files to load from s3://bucket/key.zip take 41,943,040 bytes");
        StringAssert.Contains(error.Message, $"134,217,728 bytes (128 MiB, from {Path.Combine(root, "memory.max")})");
        MemoryBudget.Check("s3://bucket/key.zip", 40L << 20, 3, MemoryBudget.RuntimeReserveBytes, limit: null); // no limit known: no check
    }

    [TestMethod]
    public void TheRealCgroupIsReadWhereItExists()
    {
        var files = Directory.Exists("/sys/fs/cgroup") ? MemoryLimit.CgroupLimitFiles("/sys/fs/cgroup", "/proc/self/cgroup").ToList() : [];
        if (files.Count == 0)
        {
            Assert.Inconclusive("This machine has no cgroup memory controller under /sys/fs/cgroup.");
        }
        // Read independently of MemoryLimit: every level's number ("max" is none), the smallest one binds.
        var values = files.Select(f => long.TryParse(File.ReadAllText(f).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : long.MaxValue).ToList();
        var smallest = values.Min();

        var limit = MemoryLimit.FromCgroup("/sys/fs/cgroup", "/proc/self/cgroup");

        Console.WriteLine($"cgroup files: {string.Join(", ", files.Zip(values, (f, v) => $"{f}={v}"))}; limit: {limit?.ToString() ?? "none"}");
        if (smallest >= 1L << 62)
        {
            Assert.IsNull(limit, "every level says no limit");
        }
        else
        {
            Assert.AreEqual(smallest, limit?.Bytes);
            Assert.AreEqual(files[values.IndexOf(smallest)], limit?.Source);
        }
    }

    private void WriteLimit(string root, string relativePath, string content)
    {
        var path = Path.Combine(root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private string WriteProcSelfCgroup(string content)
    {
        var path = Path.Combine(_folder, $"proc-self-cgroup-{Guid.NewGuid():N}");
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Sparse files of zeros, packed with zstd: a large declared size in a small archive.</summary>
    private (string Archive, MovedFile[] Files) PackZeros(params (string Name, long Size)[] files)
    {
        var inputs = files.Select(f =>
        {
            var path = Path.Combine(_folder, Path.GetFileName(f.Name));
            using (var stream = File.Create(path))
            {
                stream.SetLength(f.Size);
            }
            return (f.Name, path, MovedFileKind.Data);
        }).ToArray();
        return TestArchives.Pack(_folder, ArchiveCompression.Zstd, inputs);
    }
}
