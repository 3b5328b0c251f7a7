using System.Buffers.Binary;
using System.IO.Compression;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>The archives against the readers users will point at them: unzip, Python, .NET.</summary>
[TestClass]
public sealed class ArchiveCompatibilityTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = ArchiveTestKit.NewFolder("compat");

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    [DataRow(ArchiveCompression.Stored, false)]
    [DataRow(ArchiveCompression.Deflate, false)]
    [DataRow(ArchiveCompression.Zstd, false)]
    [DataRow(ArchiveCompression.Stored, true)]
    [DataRow(ArchiveCompression.Deflate, true)]
    [DataRow(ArchiveCompression.Zstd, true)]
    public void UnzipListsEveryEntry(ArchiveCompression compression, bool forceZip64)
    {
        var archive = Write(compression, forceZip64);
        ArchiveTestKit.AssertUnzipLists(archive);
        if (compression != ArchiveCompression.Zstd)
        {
            var (exitCode, output, error) = ArchiveTestKit.Run("unzip", "-t", archive.Path);
            Assert.AreEqual(0, exitCode, $"unzip -t failed: {error}\n{output}");
            StringAssert.Contains(output, "No errors detected");
        }
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored, false)]
    [DataRow(ArchiveCompression.Deflate, false)]
    [DataRow(ArchiveCompression.Zstd, false)]
    [DataRow(ArchiveCompression.Stored, true)]
    [DataRow(ArchiveCompression.Deflate, true)]
    [DataRow(ArchiveCompression.Zstd, true)]
    public void PythonZipfileListsEveryEntryAndVerifiesStoredAndDeflate(ArchiveCompression compression, bool forceZip64)
    {
        var archive = Write(compression, forceZip64);
        // Python before 3.14 cannot decompress method 93, so zstd archives are listed, not tested.
        ArchiveTestKit.AssertPythonAgrees(archive, test: compression != ArchiveCompression.Zstd);
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    public void DotNetReadsAForcedZip64Archive(ArchiveCompression compression)
    {
        var archive = Write(compression, forceZip64: true);
        using var zip = ZipFile.OpenRead(archive.Path);
        Assert.AreEqual(archive.Entries.Count, zip.Entries.Count);
        foreach (var (entry, zipEntry) in archive.Entries.Zip(zip.Entries))
        {
            Assert.AreEqual(entry.EntryName, zipEntry.FullName);
            using var stream = zipEntry.Open();
            using var data = new MemoryStream();
            stream.CopyTo(data);
            Assert.AreEqual(entry.Sha256, Sha256Hex.Of(data.ToArray()));
        }
    }

    [TestMethod]
    public void ForcedZip64WritesZip64FieldsAndEndRecords()
    {
        var archive = Write(ArchiveCompression.Deflate, forceZip64: true);
        var bytes = File.ReadAllBytes(archive.Path);

        var zip = ZipListing.Read(bytes);

        var first = zip.Entries[0].Local;
        Assert.AreEqual(archive.Entries[0].LocalHeaderOffset, first.Offset);
        var local = bytes.AsSpan((int)first.Offset);
        Assert.AreEqual((ushort)45, BinaryPrimitives.ReadUInt16LittleEndian(local[4..]), "version needed for Zip64");
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(local[18..]));
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(local[22..]));
        Assert.AreEqual(20, first.ExtraLength);
        var extra = bytes.AsSpan((int)first.ExtraOffset);
        Assert.AreEqual((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(extra));
        Assert.AreEqual((ulong)archive.Entries[0].Size, BinaryPrimitives.ReadUInt64LittleEndian(extra[4..]));
        Assert.AreEqual((ulong)archive.Entries[0].CompressedSize, BinaryPrimitives.ReadUInt64LittleEndian(extra[12..]));

        // End of file: Zip64 end record (56), locator (20), classic end record (22) full of markers.
        Assert.AreEqual(bytes.Length - 22, zip.EndRecordOffset);
        var end = bytes.AsSpan((int)zip.EndRecordOffset);
        Assert.AreEqual((ushort)0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(end[10..]));
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(end[16..]));
        Assert.AreEqual(bytes.Length - 42, zip.Zip64LocatorOffset);
        Assert.AreEqual(bytes.Length - 98, zip.Zip64EndRecordOffset);
        Assert.AreEqual(archive.Entries.Count, zip.Entries.Count, "the count of the Zip64 end record");
    }

    [TestMethod]
    public void WithoutForcingSmallArchivesHaveNoZip64()
    {
        var archive = Write(ArchiveCompression.Deflate, forceZip64: false);
        var zip = ZipListing.Read(archive.Path);
        Assert.AreEqual(new FileInfo(archive.Path).Length - 22, zip.EndRecordOffset);
        Assert.IsNull(zip.Zip64LocatorOffset);
    }

    /// <summary>
    /// A real Zip64 entry: 4.5 GiB of zeros from a sparse file (no disk used), zstd-compressed to a few
    /// hundred KiB. Takes about 15 s on two cores, most of it hashing.
    /// </summary>
    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void AnEntryAbove4GiBUsesZip64AndReadsBack()
    {
        const long size = (4L << 30) + (512L << 20) + 7;
        var sparse = Path.Combine(_folder, "zeros.bin");
        using (var file = new FileStream(sparse, FileMode.CreateNew))
        {
            file.SetLength(size);
        }
        var small = ArchiveTestKit.CompressibleFile(_folder, "after.so", 10_000, seed: 1);

        var archive = ArchiveWriter.Write(
            Path.Combine(_folder, "big.zip"),
            [new("zeros.bin", sparse), new("after.so", small)],
            ArchiveCompression.Zstd,
            1,
            2,
            null,
            CancellationToken.None);

        var zeros = archive.Entries[0];
        Assert.AreEqual(size, zeros.Size);
        Assert.AreEqual((ushort)93, zeros.Method);
        Assert.IsLessThan(10L << 20, archive.Length);

        // Python and unzip both read the Zip64 sizes.
        ArchiveTestKit.AssertPythonAgrees(archive, test: false);
        ArchiveTestKit.AssertUnzipLists(archive);

        // Stream-decode the frame and check length and CRC without holding 4.5 GiB.
        using var raw = ArchiveTestKit.OpenRawData(archive.Path, zeros);
        using var decoder = new ZstdSharp.DecompressionStream(raw);
        var buffer = new byte[1 << 20];
        long total = 0;
        var crc = new System.IO.Hashing.Crc32();
        int read;
        while ((read = decoder.Read(buffer)) > 0)
        {
            crc.Append(buffer.AsSpan(0, read));
            total += read;
        }
        Assert.AreEqual(size, total);
        Assert.AreEqual(zeros.Crc32, crc.GetCurrentHashAsUInt32());
        CollectionAssert.AreEqual(File.ReadAllBytes(small), ArchiveTestKit.DecodeZstdEntry(archive.Path, archive.Entries[1]));
    }

    private PackedArchive Write(ArchiveCompression compression, bool forceZip64)
    {
        List<ArchiveInput> inputs =
        [
            new("lib/libonnx-like.so", ArchiveTestKit.CompressibleFile(_folder, "src/a.so", 400_000, seed: 1)),
            new("lib/random.bin", ArchiveTestKit.RandomFile(_folder, "src/r.bin", 50_000, seed: 2)),
            new("empty.txt", ArchiveTestKit.WriteFile(_folder, "src/empty", [])),
            new("models/model.onnx", ArchiveTestKit.CompressibleFile(_folder, "src/m.onnx", 900_000, seed: 3)),
        ];
        var settings = new ArchiveWriterSettings { ForceZip64 = forceZip64, DeflatePieceSize = 1 << 18 };
        return ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, compression, 0, 2, null, settings, CancellationToken.None);
    }
}
