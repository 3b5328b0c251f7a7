using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Archives the build wrote, then damaged in one precise way: each is refused with its own code, nothing is fetched
/// that the damage makes pointless, and no memory file stays open. (Names, links, truncation, a corrupt directory and
/// duplicates are in ZipDirectoryTests; hash mismatch, a missing entry and a bomb without a manifest in ArchiveLoaderTests.)
/// </summary>
[TestClass]
[DoNotParallelize] // Counts this process's memory files.
public sealed class BadArchiveTests
{
    private static readonly LoaderSettings s_smallRanges = new() { RangeSize = 4 << 10, Parallelism = 4, AllowAnyRangeSize = true };
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("bad");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public async Task AnEntryThatDecodesShortOfItsDeclaredSizeIsTooSmall(ArchiveCompression compression)
    {
        // The directory and the manifest agree on a size 4 KiB larger than what the data decodes to.
        var (archive, files) = PackCompressible(compression, 200_000);
        var bytes = File.ReadAllBytes(archive);
        ZipBytes.SetSize(bytes, "data/file.bin", (uint)files[0].Size + 4096);
        File.WriteAllBytes(archive, bytes);
        var manifest = new[] { Resized(files[0], files[0].Size + 4096) };

        var error = await LoadFailsAsync(archive, manifest);

        Assert.AreEqual(RuntimeErrorCodes.EntryTooSmall, error.Code, error.Message);
        StringAssert.Contains(error.Message, "'data/file.bin'");
        StringAssert.Contains(error.Message, $"{files[0].Size:N0} bytes");
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public async Task DataThatCannotBeDecodedIsACorruptEntry(ArchiveCompression compression)
    {
        // 0xFF as the first byte: a deflate block of the reserved type 3, or a zstd frame without its magic number.
        var (archive, files) = PackCompressible(compression, 100_000);
        var bytes = File.ReadAllBytes(archive);
        bytes[ZipListing.Read(bytes).Entry("data/file.bin").DataOffset] = 0xFF;
        File.WriteAllBytes(archive, bytes);

        var error = await LoadFailsAsync(archive, files);

        Assert.AreEqual(RuntimeErrorCodes.CorruptDirectory, error.Code, error.Message);
        StringAssert.Contains(error.Message, "'data/file.bin'");
        StringAssert.Contains(error.Message, "cannot be decoded");
    }

    [TestMethod]
    public async Task AManifestSizeLargerThanTheEntryIsTooSmallBeforeAnythingIsFetched()
    {
        var (archive, files) = PackCompressible(ArchiveCompression.Zstd, 50_000);
        var manifest = new[] { Resized(files[0], files[0].Size + 1) };
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.EntryTooSmall, error.Code);
        Assert.AreEqual(0, source.RangeOpens);
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public async Task ABombThatDecodesFarBeyondTheManifestStopsAtTheDeclaredSize(ArchiveCompression compression)
    {
        // 64 MiB of zeros, declared as 1 MiB by the directory and by the manifest: the data says otherwise.
        const int declared = 1 << 20;
        var zeros = Path.Combine(_folder, "zeros.bin");
        using (var file = File.Create(zeros))
        {
            file.SetLength(64 << 20);
        }
        var (archive, files) = TestArchives.Pack(_folder, compression, ("data/zeros.bin", zeros, MovedFileKind.Data));
        var bytes = File.ReadAllBytes(archive);
        ZipBytes.SetSize(bytes, "data/zeros.bin", declared);
        File.WriteAllBytes(archive, bytes);
        var compressed = ZipListing.Read(bytes).Entry("data/zeros.bin").CompressedSize;
        var manifest = new[] { Resized(files[0], declared) };
        var statistics = new LoadStatistics();

        var error = await LoadFailsAsync(archive, manifest, statistics);

        Assert.AreEqual(RuntimeErrorCodes.EntryTooLarge, error.Code, error.Message);
        StringAssert.Contains(error.Message, "the manifest");
        Assert.IsTrue(statistics.VerifyBytes <= declared, $"{statistics.VerifyBytes:N0} bytes were hashed and written: nothing past the declared size may be");
        if (compression == ArchiveCompression.Deflate)
        {
            // Deflate cannot pass 1032:1, so the 64 MiB take about 64 KiB: stopping early leaves most of them unread.
            // (zstd packs the zeros into a few KiB, one range: there is nothing left to not read.)
            Assert.IsTrue(statistics.DownloadBytes < compressed / 2, $"{statistics.DownloadBytes:N0} of {compressed:N0} compressed bytes read");
        }
    }

    [TestMethod]
    public async Task ADeclaredSizeBeyondWhatTheMethodCanExpandToIsRefusedBeforeAnythingIsFetched()
    {
        // No manifest to compare with: 4 GB from about 100 KB of deflate data is more than deflate can ever produce.
        var (archive, _) = PackCompressible(ArchiveCompression.Deflate, 200_000);
        var bytes = File.ReadAllBytes(archive);
        ZipBytes.SetSize(bytes, "data/file.bin", 0xFFFF_FF00);
        File.WriteAllBytes(archive, bytes);
        var before = TestArchives.OpenMemfds();
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, null, null, s_smallRanges, CancellationToken.None));

        Assert.AreEqual(RuntimeErrorCodes.EntryTooLarge, error.Code);
        StringAssert.Contains(error.Message, "1,032:1");
        Assert.AreEqual(0, source.RangeOpens);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Zstd)]
    public async Task WithAManifestTheSha256AloneProvesTheContentAndACrcFieldIsNotChecked(ArchiveCompression compression)
    {
        // The content is intact (its SHA-256 matches the manifest), its CRC field is not. With a manifest the CRC-32 is
        // not computed at all (the SHA-256 is the stronger check of the same bytes), so the load succeeds; the same
        // archive without a manifest is refused, with the code that names the CRC-32.
        var (archive, files) = PackCompressible(compression, 100_000);
        var bytes = File.ReadAllBytes(archive);
        ZipBytes.DamageCrc(bytes, "data/file.bin");
        File.WriteAllBytes(archive, bytes);

        await using (var source = LocalFileArchiveSource.Open(archive))
        {
            var loaded = await ArchiveLoader.LoadAsync(source, files, null, s_smallRanges, CancellationToken.None);
            Assert.AreEqual(files[0].Sha256, loaded.Single().Sha256);
            foreach (var file in loaded)
            {
                file.File.Dispose();
            }
        }
        var error = await LoadFailsAsync(archive, null);

        Assert.AreEqual(RuntimeErrorCodes.CrcMismatch, error.Code, error.Message);
        StringAssert.Contains(error.Message, "'data/file.bin'");
    }

    /// <summary>Loads through a source that counts its ranges; asserts the failure leaves no memory file open.</summary>
    private static async Task<SnapLoaderException> LoadFailsAsync(string archive, MovedFile[]? manifest, LoadStatistics? statistics = null)
    {
        var before = TestArchives.OpenMemfds();
        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(
            () => ArchiveLoader.LoadAsync(source, manifest, null, s_smallRanges, statistics ?? new LoadStatistics(), CancellationToken.None));
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray(), "every memory file was closed");
        return error;
    }

    private static MovedFile Resized(MovedFile file, long size) => new(file.RelativePath, size, file.Sha256, file.Kind);

    private (string Archive, MovedFile[] Files) PackCompressible(ArchiveCompression compression, long size)
    {
        var path = Path.Combine(_folder, "file.bin");
        TestArchives.WriteCompressible(path, size, seed: 11);
        return TestArchives.Pack(_folder, compression, ("data/file.bin", path, MovedFileKind.Data));
    }
}
