using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Zip64 fields are 64-bit, so an archive can put a value near <see cref="long.MaxValue"/> in any size or offset.
/// Adding two such values wraps around to a small number: each case here would pass a bounds check written as a sum
/// and fail later as a truncated archive or a memory file that cannot be sized. They must be named for what they are,
/// a corrupt directory (SNAP1002), before anything is fetched or allocated.
/// </summary>
[TestClass]
[DoNotParallelize] // Counts this process's memory files.
public sealed class ZipDirectoryZip64BoundsTests
{
    private const long NearMax = long.MaxValue - 16;
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("zip64");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public async Task TheHandMadeZip64ArchiveIsValidAndLoads()
    {
        // The cases below change one field of this archive; unchanged, Python's zipfile and the loader read it.
        var content = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var archive = Write(new HandMadeZip64 { Content = content });
        TestArchives.Python("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                assert z.testzip() is None
                assert len(z.read('lib/a.bin')) == 5000
            """, _folder, archive);

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, null, null, LoaderSettings.Default, CancellationToken.None);
        try
        {
            CollectionAssert.AreEqual(content, File.ReadAllBytes(loaded.Single().File.ProcPath));
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    [DataRow("local header offset", NearMax, null, null)]
    [DataRow("compressed size", null, NearMax, null)]
    [DataRow("compressed and uncompressed size", null, NearMax, NearMax)]
    [DataRow("negative local header offset", -2L, null, null)]
    [DataRow("negative size", null, null, -1L)]
    public async Task EntryFieldsNearTheLimitAreACorruptDirectory(string what, long? offset, long? compressedSize, long? size)
    {
        var archive = Write(new HandMadeZip64 { Content = new byte[100], LocalHeaderOffset = offset, CompressedSize = compressedSize, Size = size });
        await AssertCorruptAsync(archive, what);
    }

    [TestMethod]
    [DataRow("Zip64 end record offset", NearMax, null, null, null)]
    [DataRow("negative Zip64 end record offset", -56L, null, null, null)]
    [DataRow("directory offset", null, NearMax, null, null)]
    [DataRow("directory length", null, null, NearMax, null)]
    [DataRow("directory offset and length", null, NearMax, NearMax, null)]
    [DataRow("entry count", null, null, null, NearMax)]
    public async Task EndRecordFieldsNearTheLimitAreACorruptDirectory(string what, long? zip64End, long? directoryOffset, long? directoryLength, long? entryCount)
    {
        var archive = Write(new HandMadeZip64
        {
            Content = new byte[100],
            Zip64EndOffset = zip64End,
            DirectoryOffset = directoryOffset,
            DirectoryLength = directoryLength,
            EntryCount = entryCount,
        });
        await AssertCorruptAsync(archive, what);
    }

    private async Task AssertCorruptAsync(string archive, string what)
    {
        var before = TestArchives.OpenMemfds();
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(
            () => ArchiveLoader.LoadAsync(source, null, null, LoaderSettings.Default, CancellationToken.None), what);
        Assert.AreEqual(RuntimeErrorCodes.CorruptDirectory, error.Code, $"{what}: {error.Message}");
        StringAssert.Contains(error.Message, archive);
        Assert.AreEqual(0, source.RangeOpens, $"{what}: no entry data may be fetched");
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    private string Write(HandMadeZip64 zip)
    {
        var path = Path.Combine(_folder, $"z64-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, zip.ToBytes());
        return path;
    }
}
