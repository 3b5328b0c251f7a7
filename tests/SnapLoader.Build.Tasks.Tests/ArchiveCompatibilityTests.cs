using System.Buffers.Binary;
using System.IO.Compression;
using SnapLoader.Build.Tasks.Archive;

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
            Assert.AreEqual(entry.Sha256, ArchiveTestKit.Sha256Of(data.ToArray()));
        }
    }

    [TestMethod]
    public void ForcedZip64WritesZip64FieldsAndEndRecords()
    {
        var archive = Write(ArchiveCompression.Deflate, forceZip64: true);
        var bytes = File.ReadAllBytes(archive.Path);

        var first = archive.Entries[0];
        var local = bytes.AsSpan((int)first.LocalHeaderOffset);
        Assert.AreEqual((ushort)45, BinaryPrimitives.ReadUInt16LittleEndian(local[4..]), "version needed for Zip64");
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(local[18..]));
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(local[22..]));
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(local[26..]);
        Assert.AreEqual((ushort)20, BinaryPrimitives.ReadUInt16LittleEndian(local[28..]));
        var extra = local[(30 + nameLength)..];
        Assert.AreEqual((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(extra));
        Assert.AreEqual((ulong)first.Size, BinaryPrimitives.ReadUInt64LittleEndian(extra[4..]));
        Assert.AreEqual((ulong)first.CompressedSize, BinaryPrimitives.ReadUInt64LittleEndian(extra[12..]));

        // End of file: Zip64 end record (56), locator (20), classic end record (22) full of markers.
        var end = bytes.AsSpan(bytes.Length - 22);
        Assert.AreEqual(0x06054B50u, BinaryPrimitives.ReadUInt32LittleEndian(end));
        Assert.AreEqual((ushort)0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(end[10..]));
        Assert.AreEqual(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(end[16..]));
        var locator = bytes.AsSpan(bytes.Length - 42);
        Assert.AreEqual(0x07064B50u, BinaryPrimitives.ReadUInt32LittleEndian(locator));
        var zip64EndOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(locator[8..]);
        Assert.AreEqual(bytes.Length - 98, zip64EndOffset);
        var zip64End = bytes.AsSpan(zip64EndOffset);
        Assert.AreEqual(0x06064B50u, BinaryPrimitives.ReadUInt32LittleEndian(zip64End));
        Assert.AreEqual((ulong)archive.Entries.Count, BinaryPrimitives.ReadUInt64LittleEndian(zip64End[32..]));
    }

    [TestMethod]
    public void WithoutForcingSmallArchivesHaveNoZip64()
    {
        var archive = Write(ArchiveCompression.Deflate, forceZip64: false);
        var bytes = File.ReadAllBytes(archive.Path);
        Assert.AreEqual(0x06054B50u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 22)));
        Assert.AreNotEqual(0x07064B50u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 42)));
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
