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
    private static readonly LoaderOptions s_options = new() { RangeSize = 1 << 20, Parallelism = 4, EntryParallelism = 4, AllowAnyRangeSize = true };
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("memory");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public async Task ALoadThatDoesNotFitTheLambdaMemorySizeIsRefusedBeforeAnythingIsAllocated()
    {
        // 96 MiB of files; 200 MB of function memory leave 200 - 96 (runtime) - 4 (ranges) - 16 (chunks) = 84 MiB.
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
        StringAssert.Contains(error.Message, "at least 212 MB");
        StringAssert.Contains(error.Message, archive);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());

        // The number the message asks for is enough.
        await using var again = LocalFileArchiveSource.Open(archive);
        using var scope = new EnvironmentScope(new() { [MemoryLimit.LambdaMemoryVariable] = "212" });
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
    public void TheCgroupLimitIsNamedInTheError()
    {
        var root = Path.Combine(_folder, "cgroup");
        WriteLimit(root, "memory.max", "134217728\n");
        var limit = MemoryLimit.FromCgroup(root, WriteProcSelfCgroup("0::/\n"));

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => MemoryBudget.Check("s3://bucket/key.zip", 40L << 20, 3, s_options, limit));

        Assert.AreEqual(RuntimeErrorCodes.NotEnoughMemory, error.Code);
        StringAssert.Contains(error.Message, "The 3 files to load from s3://bucket/key.zip take 41,943,040 bytes");
        StringAssert.Contains(error.Message, $"134,217,728 bytes (128 MiB, from {Path.Combine(root, "memory.max")})");
        MemoryBudget.Check("s3://bucket/key.zip", 40L << 20, 3, s_options, limit: null); // no limit known: no check
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
