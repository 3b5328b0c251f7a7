using System.IO.Compression;
using System.Runtime.InteropServices;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
[DoNotParallelize] // Counts this process's memory files and allocated bytes.
public sealed class ArchiveLoaderTests
{
    private static readonly LoaderSettings s_smallRanges = new() { RangeSize = 1 << 20, Parallelism = 4, AllowAnyRangeSize = true };
    private string _folder = "";

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("loader");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Stored)]
    public async Task OnnxRuntimeAndResNetRoundTripByteIdentical(ArchiveCompression compression)
    {
        var (archive, files) = TestArchives.Pack(_folder, compression,
            ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            ("models/resnet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data));
        var before = TestArchives.OpenMemfds().Count;

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, LoaderSettings.Default, CancellationToken.None);
        try
        {
            Assert.AreEqual(2, loaded.Count);
            Assert.AreEqual(before + 2, TestArchives.OpenMemfds().Count);
            for (var i = 0; i < files.Length; i++)
            {
                Assert.AreSame(files[i], loaded[i].Moved);
                Assert.IsTrue(loaded[i].File.IsSealed);
                Assert.AreEqual(files[i].Sha256, loaded[i].Sha256);
                // Read back independently of the loader, through the path other code would open.
                Assert.AreEqual(files[i].Sha256, Sha256Hex.OfFile(loaded[i].File.ProcPath), files[i].RelativePath);
            }
            Assert.AreEqual(Sha256Hex.OfFile(TestPaths.ResNet18Model), Sha256Hex.OfFile(loaded[1].File.ProcPath));

            // The library loads from its memory file and its entry point answers.
            var handle = NativeLibrary.Load(loaded[0].File.ProcPath);
            var getApiBase = NativeLibrary.GetExport(handle, "OrtGetApiBase");
            Assert.AreNotEqual(IntPtr.Zero, Marshal.GetDelegateForFunctionPointer<GetApiBase>(getApiBase)());
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
        Assert.AreEqual(before, TestArchives.OpenMemfds().Count);
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetApiBase();

    [TestMethod]
    public async Task HashMismatchNamesFileHashesAndArchiveAndLeavesNothingOpen()
    {
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd,
            ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            ("models/resnet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data));
        var wrong = new string('0', 64);
        var manifest = new[] { files[0], new MovedFile(files[1].RelativePath, files[1].Size, wrong, MovedFileKind.Data) };
        var before = TestArchives.OpenMemfds();

        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.HashMismatch, error.Code);
        StringAssert.Contains(error.Message, "'models/resnet18.onnx'");
        StringAssert.Contains(error.Message, wrong);
        StringAssert.Contains(error.Message, files[1].Sha256);
        StringAssert.Contains(error.Message, archive);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task UserMadeDeflateZipLoadsWithoutManifest()
    {
        var tree = Path.Combine(_folder, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "models"));
        File.Copy(TestPaths.OnnxRuntimeLibrary(), Path.Combine(tree, "libonnxruntime.so"));
        File.Copy(TestPaths.ResNet18Model, Path.Combine(tree, "models", "resnet18.onnx"));
        File.WriteAllText(Path.Combine(tree, "README.txt"), "not wanted");
        ProcessRunner.Run("zip", ["-r", "-q", "-6", "../user.zip", "."], tree).EnsureSuccess("zip");

        await using var source = LocalFileArchiveSource.Open(Path.Combine(_folder, "user.zip"));
        var loaded = await ArchiveLoader.LoadAsync(source, null, name => !name.EndsWith(".txt", StringComparison.Ordinal), s_smallRanges, CancellationToken.None);
        try
        {
            CollectionAssert.AreEquivalent(new[] { "libonnxruntime.so", "models/resnet18.onnx" }, loaded.Select(f => f.RelativePath).ToArray());
            foreach (var file in loaded)
            {
                Assert.IsNull(file.Sha256);
                Assert.AreEqual(8, file.Entry.Method);
                Assert.AreEqual(Sha256Hex.OfFile(Path.Combine(tree, file.RelativePath)), Sha256Hex.OfFile(file.File.ProcPath));
            }
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task PythonZipWithDataDescriptorsLoads()
    {
        var archive = Path.Combine(_folder, "py.zip");
        TestArchives.PythonStreamedZip(archive, """
            z.write(sys.argv[2], 'lib/libonnxruntime.so')
            z.writestr(zipfile.ZipInfo('empty.txt'), b'')
            """, _folder, TestPaths.OnnxRuntimeLibrary());

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, null, null, s_smallRanges, CancellationToken.None);
        try
        {
            Assert.AreEqual(2, loaded.Count);
            Assert.AreEqual(Sha256Hex.OfFile(TestPaths.OnnxRuntimeLibrary()), Sha256Hex.OfFile(loaded[0].File.ProcPath));
            Assert.AreEqual(0, loaded[1].File.Length);
            Assert.IsTrue(loaded[1].File.IsSealed);
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task EntryBiggerThanItsDirectoryRecordStopsAsABomb()
    {
        var archive = Path.Combine(_folder, "bomb.zip");
        TestArchives.DotNetZipOfZeros(archive, "bomb.bin", 64 << 20, CompressionLevel.Optimal);
        // Declare 1 MiB in both headers: 64 MiB of zeros follow.
        var bytes = File.ReadAllBytes(archive);
        ZipBytes.SetSize(bytes, "bomb.bin", 1 << 20);
        File.WriteAllBytes(archive, bytes);
        var before = TestArchives.OpenMemfds().Count;

        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, null, null, s_smallRanges, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.EntryTooLarge, error.Code);
        StringAssert.Contains(error.Message, "'bomb.bin'");
        StringAssert.Contains(error.Message, "1,048,576");
        Assert.AreEqual(before, TestArchives.OpenMemfds().Count);
    }

    [TestMethod]
    public async Task ManifestSizeSmallerThanEntryIsRefusedBeforeLoading()
    {
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd, ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary));
        var manifest = new[] { new MovedFile(files[0].RelativePath, files[0].Size - 1, files[0].Sha256, MovedFileKind.NativeLibrary) };

        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.EntryTooLarge, error.Code);
        Assert.AreEqual(0, source.RangeOpens, "nothing may be fetched once the sizes disagree");
    }

    [TestMethod]
    public async Task MissingEntryIsNamed()
    {
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Stored, ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary));
        var manifest = new[] { files[0], new MovedFile("lib/libgone.so", 10, new string('a', 64), MovedFileKind.NativeLibrary) };

        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.EntryMissing, error.Code);
        StringAssert.Contains(error.Message, "'lib/libgone.so'");
    }

    [TestMethod]
    public async Task CorruptStoredBytesFailTheCrcWithoutManifest()
    {
        var archive = Path.Combine(_folder, "crc.zip");
        TestArchives.DotNetZipOfZeros(archive, "data.bin", 3 << 20, CompressionLevel.NoCompression);
        var bytes = File.ReadAllBytes(archive);
        bytes[2 << 20] ^= 0xFF;
        File.WriteAllBytes(archive, bytes);

        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, null, null, s_smallRanges, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.CrcMismatch, error.Code);
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Stored)]
    public async Task CancellationMidLoadLeavesNoMemoryFile(ArchiveCompression compression)
    {
        var (archive, files) = TestArchives.Pack(_folder, compression,
            ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            ("models/resnet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data));
        var before = TestArchives.OpenMemfds();
        using var cancel = new CancellationTokenSource();
        var sawMemfds = 0;
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive), async (_, _) =>
        {
            if (Interlocked.Increment(ref sawMemfds) == 6)
            {
                Assert.AreEqual(before.Count + 2, TestArchives.OpenMemfds().Count, "both memory files exist mid-load");
                await cancel.CancelAsync();
            }
        });

        await Assert.ThrowsAsync<OperationCanceledException>(() => ArchiveLoader.LoadAsync(source, files, null, s_smallRanges, cancel.Token));
        Assert.IsTrue(source.RangeOpens >= 6);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task SourceFailureMidLoadLeavesNoMemoryFile()
    {
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd,
            ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            ("models/resnet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data));
        var before = TestArchives.OpenMemfds();
        var opens = 0;
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive), (offset, length) =>
            Interlocked.Increment(ref opens) == 5 ? throw RuntimeErrors.Truncated("test", offset, length, offset) : Task.CompletedTask);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, files, null, s_smallRanges, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.TruncatedArchive, error.Code);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Stored)]
    public async Task ManagedMemoryStaysBoundedForAFileManyTimesTheBuffers(ArchiveCompression compression)
    {
        const long size = 320L << 20;
        var big = Path.Combine(_folder, "big.bin");
        TestArchives.WriteCompressible(big, size, seed: 3);
        var (archive, files) = TestArchives.Pack(_folder, compression, ("data/big.bin", big, MovedFileKind.Data));
        var options = new LoaderSettings { RangeSize = LoaderSettings.MinimumRangeSize, Parallelism = 4 };
        // The prefetched ranges (one pooled buffer per fetch slot), a chunk per worker, and the directory: far below the file.
        var bound = (long)options.Parallelism * options.RangeSize + (16L << 20);
        Assert.IsTrue(size > 5 * bound);

        await using var source = LocalFileArchiveSource.Open(archive);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, options, CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        try
        {
            TestContext.WriteLine($"{compression}: {allocated:N0} bytes allocated to load {size:N0} bytes (bound {bound:N0})");
            Assert.IsTrue(allocated < bound, $"{allocated:N0} bytes allocated, bound {bound:N0}");
            Assert.AreEqual(files[0].Sha256, Sha256Hex.OfFile(loaded[0].File.ProcPath));
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task OneFetchSlotSharedByTwoDecodingEntriesDoesNotDeadlock()
    {
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Deflate,
            ("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            ("models/resnet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data));
        var options = new LoaderSettings { RangeSize = 256 << 10, Parallelism = 1, EntryParallelism = 2, AllowAnyRangeSize = true };

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, options, TestContext.CancellationToken);
        try
        {
            CollectionAssert.AreEqual(files.Select(f => f.Sha256).ToArray(), loaded.Select(f => Sha256Hex.OfFile(f.File.ProcPath)).ToArray());
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task ManyCompressedEntriesSharingFewSlotsDoNotDeadlock()
    {
        // Four decoders, each prefetching up to two ranges, share two fetch slots. If one entry's later range could take
        // a slot before its first, two entries would each hold a slot nobody consumes, and the load would hang.
        var inputs = new List<(string, string, MovedFileKind)>();
        for (var i = 0; i < 8; i++)
        {
            var path = Path.Combine(_folder, $"part{i}.bin");
            TestArchives.WriteCompressible(path, 3 << 20, seed: i);
            inputs.Add(($"data/part{i}.bin", path, MovedFileKind.Data));
        }
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd, inputs.ToArray());
        var options = new LoaderSettings { RangeSize = 32 << 10, Parallelism = 2, EntryParallelism = 4, AllowAnyRangeSize = true };

        for (var round = 0; round < 5; round++)
        {
            await using var source = LocalFileArchiveSource.Open(archive);
            var load = ArchiveLoader.LoadAsync(source, files, null, options, TestContext.CancellationToken);
            var finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(20), TestContext.CancellationToken));
            Assert.AreSame(load, finished, $"round {round}: the load did not finish in 20 s (deadlock)");
            TestArchives.DisposeAll(await load);
        }
    }

    [TestMethod]
    public void OptionsOutsideTheirRangeAreRefused()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LoaderSettings { RangeSize = 4 << 20 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LoaderSettings { RangeSize = 65 << 20 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LoaderSettings { Parallelism = 0 }.Validate());
        Assert.IsTrue(LoaderSettings.Default.Parallelism >= 4);
        Assert.AreEqual(16 << 20, LoaderSettings.Default.RangeSize);
    }
}
