using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Byte-identical moved files, which the build stores once (the first one's entry; the manifest names it in
/// <see cref="MovedFile.Entry"/> for the others): the loader fetches the entry once into one sealed memory file that
/// every one of those files gets, and checks its SHA-256 against each file's own.
/// </summary>
[TestClass]
[DoNotParallelize] // Counts this process's memory files and sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
public sealed class IdenticalFilesTests
{
    private const string Avx = "runtimes/linux-x64/native/avx/libonnxruntime.so";
    private const string Avx2 = "runtimes/linux-x64/native/avx2/libonnxruntime.so";
    private const string Model = "models/resnet18.onnx";
    private static readonly LoaderSettings s_smallRanges = new() { RangeSize = 1 << 20, Parallelism = 4, AllowAnyRangeSize = true };
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("identical");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Stored)]
    public async Task IdenticalFilesLoadFromOneEntryIntoOneMemoryFile(ArchiveCompression compression)
    {
        var (archive, files) = PackCopies(compression);
        Assert.AreEqual(Avx, files[1].Entry, "the copy names the first one's entry");
        var size = new FileInfo(TestPaths.OnnxRuntimeLibrary()).Length;
        var before = TestArchives.OpenMemfds().Count;

        await using var source = LocalFileArchiveSource.Open(archive);
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        CollectionAssert.AreEqual(new[] { Avx, Model }, directory.Entries.Select(e => e.Name).ToArray(), "one entry for the two copies");

        var statistics = new LoadStatistics();
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, s_smallRanges, statistics, CancellationToken.None);
        try
        {
            CollectionAssert.AreEqual(new[] { Avx, Avx2, Model }, loaded.Select(f => f.RelativePath).ToArray(), "every file, in manifest order");
            Assert.AreSame(files[1], loaded[1].Moved);
            Assert.AreSame(loaded[0].File, loaded[1].File, "the copies share one memory file");
            Assert.AreEqual("runtimes_linux-x64_native_*_libonnxruntime.so", loaded[0].File.Name, "/proc/self/maps names no one variant's folder");
            Assert.AreEqual("models_resnet18.onnx", loaded[2].File.Name);
            Assert.AreNotSame(loaded[0].File, loaded[2].File);
            Assert.AreEqual(before + 2, TestArchives.OpenMemfds().Count, "one memory file per entry");
            Assert.AreEqual(size + new FileInfo(TestPaths.ResNet18Model).Length, statistics.VerifyBytes, "the shared entry is verified once");
            foreach (var file in loaded)
            {
                Assert.IsTrue(file.File.IsSealed);
                Assert.AreEqual(file.Moved!.Sha256, Sha256Hex.OfFile(file.File.ProcPath), file.RelativePath);
            }
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
        Assert.AreEqual(before, TestArchives.OpenMemfds().Count, "disposing every file closes the shared memory file once, and nothing else");
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Stored)]
    public async Task ACopyThatDeclaresAnotherHashFailsTheLoadAndLeavesNothingOpen(ArchiveCompression compression)
    {
        var (archive, files) = PackCopies(compression);
        var wrong = new string('0', 64);
        var manifest = new[] { files[0], new MovedFile(Avx2, files[1].Size, wrong, MovedFileKind.NativeLibrary, entry: Avx), files[2] };
        var before = TestArchives.OpenMemfds();

        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.HashMismatch, error.Code);
        StringAssert.Contains(error.Message, $"'{Avx2}'", "the file whose hash is wrong");
        StringAssert.Contains(error.Message, $"entry '{Avx}'", "and the entry it is stored as");
        StringAssert.Contains(error.Message, wrong);
        StringAssert.Contains(error.Message, files[0].Sha256);
        StringAssert.Contains(error.Message, archive);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task ACopyStoredAsAnEntryTheArchiveLacksIsNamedBeforeAnythingIsFetched()
    {
        var (archive, files) = PackCopies(ArchiveCompression.Zstd);
        var manifest = new[] { files[0], new MovedFile(Avx2, files[1].Size, files[1].Sha256, MovedFileKind.NativeLibrary, entry: "runtimes/gone/libonnxruntime.so") };

        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.EntryMissing, error.Code);
        StringAssert.Contains(error.Message, $"'{Avx2}'");
        StringAssert.Contains(error.Message, "'runtimes/gone/libonnxruntime.so'");
        Assert.AreEqual(0, source.RangeOpens);
    }

    [TestMethod]
    public async Task ACopyThatDeclaresAnotherSizeIsRefusedBeforeAnythingIsFetched()
    {
        var (archive, files) = PackCopies(ArchiveCompression.Zstd);
        var manifest = new[] { files[0], new MovedFile(Avx2, files[1].Size + 1, files[1].Sha256, MovedFileKind.NativeLibrary, entry: Avx) };

        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.EntryTooSmall, error.Code);
        StringAssert.Contains(error.Message, $"the manifest's record of '{Avx2}'");
        Assert.AreEqual(0, source.RangeOpens);
    }

    [TestMethod]
    public async Task IdenticalFilesCountOnceAgainstTheMemoryBudget()
    {
        // Two 64 MiB copies: 200 MB of function memory leave 84 MiB for files (see MemoryBudgetTests), enough for one.
        var zeros = Path.Combine(_folder, "zeros.bin");
        using (var stream = File.Create(zeros))
        {
            stream.SetLength(64 << 20);
        }
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd,
            ("data/a/weights.bin", zeros, MovedFileKind.Data), ("data/b/weights.bin", zeros, MovedFileKind.Data));
        Assert.AreEqual("data/a/weights.bin", files[1].Entry);

        await using var source = LocalFileArchiveSource.Open(archive);
        using var scope = new EnvironmentScope(new() { [MemoryLimit.LambdaMemoryVariable] = "200" });
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, s_smallRanges, CancellationToken.None);
        try
        {
            Assert.HasCount(2, loaded);
            Assert.AreSame(loaded[0].File, loaded[1].File);
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    [DataRow("runtimes/linux-x64/native/avx/libllama.so|runtimes/linux-x64/native/avx2/libllama.so|runtimes/linux-x64/native/noavx/libllama.so",
        "runtimes/linux-x64/native/*/libllama.so")]
    [DataRow("models/a.onnx|models/copy/a.onnx", "models/*/a.onnx")]
    [DataRow("a.so|lib/a.so", "*/a.so")]
    [DataRow("x/avx/lib/a.so|x/avx2/lib/a.so", "x/*/lib/a.so")]
    [DataRow("lib/libfoo.so.1|lib/libfoo.so", null)]
    public void ASharedMemoryFileIsNamedByWhatItsPathsHaveInCommon(string paths, string? expected) =>
        Assert.AreEqual(expected, ArchiveLoader.SharedName(paths.Split('|')));

    [TestMethod]
    public void AnEntryNameMustBeRelativeWithForwardSlashes()
    {
        var sha = new string('a', 64);
        Assert.AreEqual("a/b.so", new MovedFile("a/b.so", 1, sha, MovedFileKind.NativeLibrary).Entry, "by default, the file's own path");
        Assert.AreEqual("c/b.so", new MovedFile("a/b.so", 1, sha, MovedFileKind.NativeLibrary, entry: "c/b.so").Entry);
        foreach (var bad in new[] { "", "/c/b.so", "c\\b.so" })
        {
            Assert.ThrowsExactly<ArgumentException>(() => new MovedFile("a/b.so", 1, sha, MovedFileKind.NativeLibrary, entry: bad), bad);
        }
    }

    /// <summary>Two copies of libonnxruntime.so in CPU-variant folders, and the model, packed by the build's writer.</summary>
    private (string Archive, MovedFile[] Files) PackCopies(ArchiveCompression compression) =>
        TestArchives.Pack(_folder, compression,
            (Avx, TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            (Avx2, TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary),
            (Model, TestPaths.ResNet18Model, MovedFileKind.Data));
}
