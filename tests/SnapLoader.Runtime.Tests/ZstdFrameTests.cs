using System.Buffers.Binary;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Large zstd entries as the build writes them: independent 32 MiB frames and a seek table, decoded in parallel.
/// </summary>
[TestClass]
[DoNotParallelize] // Counts this process's memory files.
public sealed class ZstdFrameTests
{
    private const long Size = (72L << 20) + 12345; // three frames: 32 MiB, 32 MiB and the rest
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("frames");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public async Task AFramedEntryDecodesInParallelToTheSameBytes()
    {
        var (archive, files) = Pack();
        await using var source = new InterceptingSource(LocalFileArchiveSource.Open(archive));
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        var entry = directory.Entries.Single();
        var frames = await ZstdFrameIndex.ReadAsync(source, directory, entry, await directory.GetDataOffsetAsync(source, entry, CancellationToken.None), "the manifest", CancellationToken.None);
        Assert.IsNotNull(frames);
        CollectionAssert.AreEqual(new[] { 32 << 20, 32 << 20, (int)(Size - (64L << 20)) }, frames.Select(f => f.DecompressedSize).ToArray());

        var statistics = new LoadStatistics();
        var loaded = await ArchiveLoader.LoadAsync(source, files, null, LoaderSettings.Default, statistics, CancellationToken.None);
        try
        {
            Assert.AreEqual(files[0].Sha256, Sha256Hex.OfFile(loaded[0].File.ProcPath));
            Assert.AreEqual(3, source.RangeOpens, "one ranged read per frame");
            Assert.AreEqual(Size, statistics.DecodeBytes);
            Assert.AreEqual(Size, statistics.VerifyBytes);
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task ASeekTableThatPromisesMoreThanTheEntryIsRefusedBeforeDecoding()
    {
        var (archive, files) = Pack();
        // The first frame's decompressed size, one byte more: the frames no longer add up to the entry's size.
        Patch(archive, 0, record => BinaryPrimitives.WriteUInt32LittleEndian(record[4..], BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) + 1));

        var error = await LoadExpectingFailure(archive, files);

        Assert.AreEqual(RuntimeErrorCodes.EntryTooLarge, error.Code, error.Message);
        StringAssert.Contains(error.Message, "seek table");
    }

    [TestMethod]
    public async Task ASeekTableWhoseFramesDoNotFillTheEntryIsACorruptArchive()
    {
        var (archive, files) = Pack();
        Patch(archive, 1, record => BinaryPrimitives.WriteUInt32LittleEndian(record, BinaryPrimitives.ReadUInt32LittleEndian(record) + 1));

        var error = await LoadExpectingFailure(archive, files);

        Assert.AreEqual(RuntimeErrorCodes.CorruptDirectory, error.Code, error.Message);
        StringAssert.Contains(error.Message, "seek table");
    }

    [TestMethod]
    public async Task AFrameThatDecodesToMoreThanItsRecordSaysIsRefused()
    {
        var (archive, files) = Pack();
        // Move 1 MiB of the first frame's size to the last: the totals still agree, the frames do not.
        Patch(archive, 0, record => BinaryPrimitives.WriteUInt32LittleEndian(record[4..], BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) - (1 << 20)));
        Patch(archive, 2, record => BinaryPrimitives.WriteUInt32LittleEndian(record[4..], BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) + (1 << 20)));

        var error = await LoadExpectingFailure(archive, files);

        Assert.IsTrue(error.Code is RuntimeErrorCodes.EntryTooLarge or RuntimeErrorCodes.EntryTooSmall, error.ToString());
        StringAssert.Contains(error.Message, "data/big.bin");
    }

    [TestMethod]
    public async Task AnEmptyFrameInTheSeekTableIsACorruptArchive()
    {
        var (archive, files) = Pack();
        // The totals still agree, but the last frame claims to hold nothing.
        uint last = 0;
        Patch(archive, 2, record =>
        {
            last = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], 0);
        });
        Patch(archive, 0, record => BinaryPrimitives.WriteUInt32LittleEndian(record[4..], BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) + last));

        var error = await LoadExpectingFailure(archive, files);

        Assert.AreEqual(RuntimeErrorCodes.CorruptDirectory, error.Code, error.Message);
        StringAssert.Contains(error.Message, "frame 2");
    }

    private (string Archive, MovedFile[] Files) Pack()
    {
        var source = Path.Combine(_folder, "big.bin");
        TestArchives.WriteCompressible(source, Size, seed: 11);
        return TestArchives.Pack(_folder, ArchiveCompression.Zstd, ("data/big.bin", source, MovedFileKind.Data));
    }

    /// <summary>Rewrites record <paramref name="frame"/> of the (only) entry's seek table in place.</summary>
    private static void Patch(string archive, int frame, SpanAction change)
    {
        var bytes = File.ReadAllBytes(archive);
        // The table ends the entry's data, which ends where the central directory starts.
        var centralStart = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 6));
        var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(centralStart - 9));
        var tableStart = centralStart - (8 + count * 8 + 9);
        change(bytes.AsSpan(tableStart + 8 + frame * 8, 8));
        File.WriteAllBytes(archive, bytes);
    }

    private delegate void SpanAction(Span<byte> record);

    private static async Task<SnapLoaderException> LoadExpectingFailure(string archive, MovedFile[] files)
    {
        var before = TestArchives.OpenMemfds();
        await using var source = LocalFileArchiveSource.Open(archive);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, files, null, LoaderSettings.Default, CancellationToken.None));
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray(), "nothing is left open");
        return error;
    }
}
