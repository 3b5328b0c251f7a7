using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// How the load orders its work so that decoding starts soon and every core stays busy to the end: an entry decoded
/// from one stream starts with a small range, and the largest entries are fetched first.
/// </summary>
[TestClass]
public sealed class LoadOrderOfRangesTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("range-order");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(ArchiveCompression.Zstd)]
    [DataRow(ArchiveCompression.Deflate)]
    public async Task AnEntryDecodedFromOneStreamStartsWithASmallRangeAndTheLargestEntryIsFetchedFirst(ArchiveCompression compression)
    {
        // Both below the 32 MiB from which the build writes zstd frames, so both decode from one stream of ranges; about
        // half of each compresses away (3 and 10 MiB of data).
        var small = Path.Combine(_folder, "small.bin");
        var large = Path.Combine(_folder, "large.bin");
        TestArchives.WriteCompressible(small, 6 << 20, seed: 3);
        TestArchives.WriteCompressible(large, 20 << 20, seed: 4);
        var (archive, files) = TestArchives.Pack(_folder, compression, ("a/small.bin", small, MovedFileKind.Data), ("b/large.bin", large, MovedFileKind.Data));
        var opened = new List<(long Offset, long Length)>();
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive), (offset, length) =>
        {
            lock (opened)
            {
                opened.Add((offset, length));
            }
            return Task.CompletedTask;
        });
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        var smallStart = await directory.GetDataOffsetAsync(source, directory.Entries.Single(e => e.Name == "a/small.bin"), CancellationToken.None);
        var largeEntry = directory.Entries.Single(e => e.Name == "b/large.bin");
        var largeStart = await directory.GetDataOffsetAsync(source, largeEntry, CancellationToken.None);
        Assert.IsTrue(largeEntry.CompressedSize is > 4 << 20 and < 16 << 20, $"precondition: {largeEntry.CompressedSize:N0} bytes of compressed data");
        // One entry at a time, one range in flight: the order of the opens is the order of the work.
        var options = new LoaderSettings { Parallelism = 1, EntryParallelism = 1 };

        var loaded = await ArchiveLoader.LoadAsync(source, files, null, options, new LoadStatistics(), CancellationToken.None);
        TestArchives.DisposeAll(loaded);

        Assert.AreEqual((largeStart, (long)LoaderSettings.FirstRangeSize), opened[0], "the largest entry first, from a 2 MiB range");
        // Then the rest of it in one range (ranges are no larger than the largest entry's compressed data).
        Assert.AreEqual((largeStart + LoaderSettings.FirstRangeSize, largeEntry.CompressedSize - LoaderSettings.FirstRangeSize), opened[1]);
        var firstOfSmall = opened.First(o => o.Offset == smallStart);
        Assert.AreEqual((long)LoaderSettings.FirstRangeSize, firstOfSmall.Length);
        Assert.IsTrue(opened.IndexOf(firstOfSmall) > 1, "the small entry after the large one");
        Assert.AreEqual(files[0].Sha256, loaded[0].Sha256);
        Assert.AreEqual(files[1].Sha256, loaded[1].Sha256);
    }
}
