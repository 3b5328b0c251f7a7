using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;
using ZstdSharp;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The two zstd decoders: the system's libzstd (native from the first byte) and ZstdSharp (managed). Each decodes the
/// build's framed and single-frame entries to the same verified bytes; the choice can be forced; a libzstd that is
/// missing, too old or incomplete leaves ZstdSharp; damaged input fails as corrupt in both.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets SNAPLOADER_ZSTD for this process.
public sealed class ZstdDecoderTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("zstd-decoders");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow("system", "the system's libzstd")]
    [DataRow("managed", "ZstdSharp, managed (SNAPLOADER_ZSTD=managed)")]
    public async Task EitherDecoderLoadsFramedAndSingleFrameEntriesToTheVerifiedBytes(string setting, string expected)
    {
        // 40 MiB: two frames with a seek table; 3 MiB: one frame without.
        var large = Path.Combine(_folder, "large.bin");
        var small = Path.Combine(_folder, "small.bin");
        TestArchives.WriteCompressible(large, (40L << 20) + 7, seed: 1);
        TestArchives.WriteCompressible(small, (3L << 20) + 3, seed: 2);
        var (archive, files) = TestArchives.Pack(_folder, ArchiveCompression.Zstd,
            ("data/large.bin", large, MovedFileKind.Data), ("data/small.bin", small, MovedFileKind.Data));

        using var environment = new EnvironmentScope(new() { [ZstdDecoders.Variable] = setting });
        var statistics = new LoadStatistics();
        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, LoaderSettings.Default, statistics, CancellationToken.None);
        try
        {
            StringAssert.StartsWith(statistics.ZstdDecoder, expected);
            Assert.AreEqual(Sha256Hex.OfFile(large), Sha256Hex.OfFile(loaded[0].File.ProcPath));
            Assert.AreEqual(Sha256Hex.OfFile(small), Sha256Hex.OfFile(loaded[1].File.ProcPath));
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public void WithoutASettingTheSystemsLibzstdIsChosenWhereItIsInstalled()
    {
        using var decoders = ZstdDecoders.Open(null);
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/libzstd.so.1") && !File.Exists("/usr/lib64/libzstd.so.1") && !File.Exists("/usr/lib/aarch64-linux-gnu/libzstd.so.1"))
        {
            Assert.Inconclusive("libzstd.so.1 is not installed on this machine.");
        }
        Assert.IsTrue(decoders.IsSystem, decoders.Description);
        StringAssert.Matches(decoders.Description, new System.Text.RegularExpressions.Regex(@"^the system's libzstd 1\.\d+\.\d+ \(libzstd\.so\.1\)$"));
    }

    [TestMethod]
    public void AMissingLibzstdLeavesZstdSharpAndSaysWhy()
    {
        using var decoders = ZstdDecoders.Open("system", "libzstd-that-is-not-there.so.1");

        Assert.IsFalse(decoders.IsSystem);
        Assert.AreEqual("ZstdSharp, managed (libzstd-that-is-not-there.so.1 is not installed)", decoders.Description);
    }

    [TestMethod]
    public void AnOldLibzstdLeavesZstdSharp()
    {
        // A real shared library with libzstd's exports, version 1.3.8.
        var library = BuildFakeLibzstd("old", """
            unsigned ZSTD_versionNumber(void) { return 10308; }
            void *ZSTD_createDStream(void) { return 0; }
            unsigned long ZSTD_freeDStream(void *d) { return 0; }
            unsigned long ZSTD_initDStream(void *d) { return 0; }
            unsigned long ZSTD_decompressStream(void *d, void *o, void *i) { return 0; }
            unsigned ZSTD_isError(unsigned long c) { return 0; }
            const char *ZSTD_getErrorName(unsigned long c) { return ""; }
            """);

        using var decoders = ZstdDecoders.Open(null, library);

        Assert.IsFalse(decoders.IsSystem);
        Assert.AreEqual($"ZstdSharp, managed ({library} is version 1.3.8, older than 1.4.0)", decoders.Description);
    }

    [TestMethod]
    public void ALibzstdWithoutTheStreamingFunctionsLeavesZstdSharp()
    {
        var library = BuildFakeLibzstd("partial", "unsigned ZSTD_versionNumber(void) { return 10505; }");

        using var decoders = ZstdDecoders.Open(null, library);

        Assert.IsFalse(decoders.IsSystem);
        StringAssert.Contains(decoders.Description, $"{library} lacks an export");
    }

    [TestMethod]
    public void AnUnknownSettingChoosesAsIfUnset()
    {
        using var decoders = ZstdDecoders.Open("fastest");
        using var unset = ZstdDecoders.Open(null);

        Assert.AreEqual(unset.Description, decoders.Description);
    }

    [TestMethod]
    [DataRow("system")]
    [DataRow("managed")]
    public void ConcatenatedFramesDecodeWholeThroughOneByteReads(string setting)
    {
        var first = Enumerable.Range(0, 100_000).Select(i => (byte)(i % 251)).ToArray();
        var second = Enumerable.Range(0, 70_000).Select(i => (byte)(i % 13)).ToArray();
        using var compressor = new Compressor(3);
        var frames = compressor.Wrap(first).ToArray().Concat(compressor.Wrap(second).ToArray()).ToArray();

        using var decoders = ZstdDecoders.Open(setting);
        using var decoder = decoders.Create(new MemoryStream(frames));
        var output = new MemoryStream();
        var one = new byte[1];
        while (decoder.Read(one, 0, 1) == 1)
        {
            output.WriteByte(one[0]);
        }

        CollectionAssert.AreEqual(first.Concat(second).ToArray(), output.ToArray());
    }

    [TestMethod]
    [DataRow("system")]
    [DataRow("managed")]
    public void InputThatEndsInsideAFrameOrIsNotZstdIsCorrupt(string setting)
    {
        using var compressor = new Compressor(3);
        var frame = compressor.Wrap(Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray()).ToArray();
        using var decoders = ZstdDecoders.Open(setting);

        foreach (var input in new[] { frame[..(frame.Length / 2)], frame.Select(b => (byte)~b).ToArray() })
        {
            using var decoder = decoders.Create(new MemoryStream(input));
            var error = Assert.Throws<Exception>(() => decoder.CopyTo(Stream.Null));
            Assert.IsTrue(error is InvalidDataException or ZstdException or EndOfStreamException, error.ToString());
        }
    }

    /// <summary>A shared library built from <paramref name="source"/> with gcc, standing in for a libzstd.</summary>
    private string BuildFakeLibzstd(string name, string source)
    {
        var c = Path.Combine(_folder, $"{name}.c");
        var library = Path.Combine(_folder, $"lib{name}zstd.so");
        File.WriteAllText(c, source);
        ProcessRunner.Run("gcc", ["-shared", "-fPIC", "-o", library, c], _folder).EnsureSuccess("gcc");
        return library;
    }
}
