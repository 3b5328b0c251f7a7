using System.Buffers.Binary;
using System.IO.Compression;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class ArchiveWriterTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = ArchiveTestKit.NewFolder("writer");

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    [DataRow(ArchiveCompression.Stored, 0)]
    [DataRow(ArchiveCompression.Deflate, 1)]
    [DataRow(ArchiveCompression.Deflate, 6)]
    [DataRow(ArchiveCompression.Deflate, 9)]
    public void StoredAndDeflateEntriesReadBackWithZipArchive(ArchiveCompression compression, int level)
    {
        var inputs = SampleInputs();
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "out", "a.zip"), inputs, compression, level, 2, null, CancellationToken.None);

        Assert.AreEqual(Path.Combine(_folder, "out", "a.zip"), archive.Path);
        Assert.AreEqual(new FileInfo(archive.Path).Length, archive.Length);
        Assert.AreEqual(Sha256Hex.OfFile(archive.Path), archive.Sha256);
        CollectionAssert.AreEqual(inputs.Select(i => i.EntryName).ToArray(), archive.Entries.Select(e => e.EntryName).ToArray());

        using var zip = ZipFile.OpenRead(archive.Path);
        Assert.AreEqual(inputs.Count, zip.Entries.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var zipEntry = zip.Entries[i];
            var entry = archive.Entries[i];
            var original = File.ReadAllBytes(inputs[i].SourcePath);
            Assert.AreEqual(inputs[i].EntryName, zipEntry.FullName);
            Assert.AreEqual(original.Length, zipEntry.Length);
            Assert.AreEqual(entry.CompressedSize, zipEntry.CompressedLength);
            Assert.AreEqual(entry.Crc32, zipEntry.Crc32);
            Assert.AreEqual(new DateTime(1980, 1, 1), zipEntry.LastWriteTime.DateTime);
            Assert.AreEqual(Convert.ToInt32("100644", 8) << 16, zipEntry.ExternalAttributes);
            using var data = new MemoryStream();
            using (var stream = zipEntry.Open())
            {
                stream.CopyTo(data);
            }
            CollectionAssert.AreEqual(original, data.ToArray(), inputs[i].EntryName);
            Assert.AreEqual(Sha256Hex.Of(original), entry.Sha256);
            Assert.AreEqual(original.Length, entry.Size);
        }
    }

    [TestMethod]
    public void DeflateCompressesWhatCanShrinkAndStoresTheRest()
    {
        var inputs = SampleInputs();
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Deflate, 6, 2, null, CancellationToken.None);

        var byName = archive.Entries.ToDictionary(e => e.EntryName);
        Assert.AreEqual((ushort)8, byName["lib/libtext.so"].Method);
        Assert.IsLessThan(byName["lib/libtext.so"].Size / 2, byName["lib/libtext.so"].CompressedSize);
        Assert.AreEqual((ushort)0, byName["data/random.bin"].Method, "random bytes do not shrink, so they are stored");
        Assert.AreEqual(byName["data/random.bin"].Size, byName["data/random.bin"].CompressedSize);
        Assert.AreEqual((ushort)0, byName["empty"].Method, "an empty file is stored");
        Assert.AreEqual(0L, byName["empty"].CompressedSize);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(19)]
    public void ZstdEntriesDecodeFromTheirRawData(int level)
    {
        var inputs = SampleInputs();
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Zstd, level, 2, null, CancellationToken.None);

        for (var i = 0; i < inputs.Count; i++)
        {
            var entry = archive.Entries[i];
            var original = File.ReadAllBytes(inputs[i].SourcePath);
            Assert.AreEqual(Sha256Hex.Of(original), entry.Sha256);
            if (entry.Method == 0)
            {
                using var raw = ArchiveTestKit.OpenRawData(archive.Path, entry);
                var stored = new byte[entry.Size];
                raw.ReadExactly(stored);
                CollectionAssert.AreEqual(original, stored, entry.EntryName);
                continue;
            }
            CollectionAssert.AreEqual(original, ArchiveTestKit.DecodeZstdEntry(archive.Path, entry), entry.EntryName);
        }
        Assert.AreEqual((ushort)93, archive.Entries.Single(e => e.EntryName == "lib/libtext.so").Method);
    }

    [TestMethod]
    public void ALargeZstdEntryIsFramesWithASeekTableAndStillOneZstdStream()
    {
        // 3 MiB + 5 in 1 MiB frames: four frames, the last one 5 bytes.
        var source = ArchiveTestKit.CompressibleFile(_folder, "big.so", (3 << 20) + 5, seed: 7);
        var settings = new ArchiveWriterSettings { ZstdFrameSize = 1 << 20 };
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), [new("big.so", source)], ArchiveCompression.Zstd, 3, 2, null, settings, CancellationToken.None);

        // Any zstd decoder reads the frames one after the other and skips the table.
        CollectionAssert.AreEqual(File.ReadAllBytes(source), ArchiveTestKit.DecodeZstdEntry(archive.Path, archive.Entries[0]));

        // The table: a skippable frame at the end that lists every frame, and the frames are where it says.
        using var raw = ArchiveTestKit.OpenRawData(archive.Path, archive.Entries[0]);
        var data = new byte[archive.Entries[0].CompressedSize];
        raw.ReadExactly(data);
        var footer = data.AsSpan(data.Length - 9);
        Assert.AreEqual(ZstdSeekTable.SeekableMagic, BinaryPrimitives.ReadUInt32LittleEndian(footer[5..]));
        var frames = (int)BinaryPrimitives.ReadUInt32LittleEndian(footer);
        Assert.AreEqual(4, frames);
        var tableStart = data.Length - ZstdSeekTable.Length(frames);
        Assert.AreEqual(ZstdSeekTable.SkippableMagic, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(tableStart)));
        long at = 0, decompressed = 0;
        for (var i = 0; i < frames; i++)
        {
            var compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(tableStart + 8 + i * 8));
            var size = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(tableStart + 12 + i * 8));
            Assert.AreEqual(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)at)), $"frame {i} starts with zstd's magic");
            using var frame = new ZstdSharp.DecompressionStream(new MemoryStream(data, (int)at, (int)compressedSize));
            using var decoded = new MemoryStream();
            frame.CopyTo(decoded);
            Assert.AreEqual(size, (uint)decoded.Length, $"frame {i} decodes alone to its listed size");
            at += compressedSize;
            decompressed += size;
        }
        Assert.AreEqual(tableStart, at, "the frames fill the data up to the table");
        Assert.AreEqual(archive.Entries[0].Size, decompressed);
    }

    [TestMethod]
    public void ADeflateEntryCutIntoPiecesIsOneValidDeflateStream()
    {
        // 10 pieces of 64 KiB and a short last one, each compressed on its own worker.
        var source = ArchiveTestKit.CompressibleFile(_folder, "big.so", (10 << 16) + 1234, seed: 8);
        var settings = new ArchiveWriterSettings { DeflatePieceSize = 1 << 16, BufferSize = 1 << 14 };
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), [new("big.so", source)], ArchiveCompression.Deflate, 6, 3, null, settings, CancellationToken.None);

        Assert.AreEqual((ushort)8, archive.Entries[0].Method);
        using var raw = ArchiveTestKit.OpenRawData(archive.Path, archive.Entries[0]);
        using var inflate = new DeflateStream(raw, CompressionMode.Decompress);
        using var data = new MemoryStream();
        inflate.CopyTo(data);
        CollectionAssert.AreEqual(File.ReadAllBytes(source), data.ToArray());
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public void SameInputsGiveTheSameBytesWhateverTheParallelism(ArchiveCompression compression)
    {
        var inputs = SampleInputs();
        // 9 MB: several zstd frames and deflate pieces, compressed on whichever worker is free.
        inputs.Add(new("lib/big.so", ArchiveTestKit.CompressibleFile(_folder, "big.so", (9 << 20) + 99, seed: 9)));
        // Small pieces and frames, so the paths that split a file run on small files too.
        var settings = new ArchiveWriterSettings { DeflatePieceSize = 1 << 16, ZstdFrameSize = 1 << 16 };

        var one = ArchiveWriter.Write(Path.Combine(_folder, "one.zip"), inputs, compression, 0, 1, null, settings, CancellationToken.None);
        var four = ArchiveWriter.Write(Path.Combine(_folder, "four.zip"), inputs, compression, 0, 4, null, settings, CancellationToken.None);
        File.SetLastWriteTimeUtc(inputs[0].SourcePath, DateTime.UtcNow.AddDays(-3));
        var again = ArchiveWriter.Write(Path.Combine(_folder, "again.zip"), inputs, compression, 0, 4, null, settings, CancellationToken.None);

        CollectionAssert.AreEqual(File.ReadAllBytes(one.Path), File.ReadAllBytes(four.Path));
        CollectionAssert.AreEqual(File.ReadAllBytes(one.Path), File.ReadAllBytes(again.Path), "file times must not reach the archive");
        Assert.AreEqual(one.Sha256, four.Sha256);
        CollectionAssert.AreEqual(one.Entries.ToArray(), four.Entries.ToArray());
    }

    [TestMethod]
    public void HeadersCarryFixedMetadataAndNoExtraFields()
    {
        var inputs = new List<ArchiveInput> { new("lib/a.so", ArchiveTestKit.CompressibleFile(_folder, "a.so", 5000, seed: 1)) };
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Deflate, 6, 1, null, CancellationToken.None);
        var bytes = File.ReadAllBytes(archive.Path);

        var local = bytes.AsSpan((int)archive.Entries[0].LocalHeaderOffset);
        Assert.AreEqual((ushort)20, BinaryPrimitives.ReadUInt16LittleEndian(local[4..]), "version needed");
        Assert.AreEqual((ushort)0, BinaryPrimitives.ReadUInt16LittleEndian(local[6..]), "flags: no data descriptor, ASCII name");
        Assert.AreEqual((ushort)0, BinaryPrimitives.ReadUInt16LittleEndian(local[10..]), "DOS time");
        Assert.AreEqual((ushort)0x21, BinaryPrimitives.ReadUInt16LittleEndian(local[12..]), "DOS date 1980-01-01");
        Assert.AreEqual((ushort)0, BinaryPrimitives.ReadUInt16LittleEndian(local[28..]), "extra field length");

        var zip = ZipListing.Read(bytes);
        var entry = zip.Entries.Single();
        var central = bytes.AsSpan((int)entry.CentralRecordOffset);
        Assert.AreEqual((byte)3, central[5], "made by Unix");
        Assert.AreEqual(0, entry.CentralExtraLength, "extra field length");
        Assert.AreEqual(0x81A40000u, BinaryPrimitives.ReadUInt32LittleEndian(central[38..]), "regular file, 0644");
        Assert.AreEqual(zip.EndRecordOffset, entry.CentralRecordOffset + entry.CentralRecordLength, "nothing but the end record after the one header");
        Assert.AreEqual(bytes.Length - 22, zip.EndRecordOffset);
    }

    [TestMethod]
    public void NonAsciiNamesAreFlaggedUtf8()
    {
        const string name = "données/modèle-é.onnx";
        var inputs = new List<ArchiveInput>
        {
            new("plain.bin", ArchiveTestKit.CompressibleFile(_folder, "p.bin", 100, seed: 2)),
            new(name, ArchiveTestKit.CompressibleFile(_folder, "m.bin", 100, seed: 3)),
        };
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Stored, 0, 1, null, CancellationToken.None);
        var bytes = File.ReadAllBytes(archive.Path);

        Assert.AreEqual((ushort)0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)archive.Entries[0].LocalHeaderOffset + 6)));
        Assert.AreEqual((ushort)0x800, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)archive.Entries[1].LocalHeaderOffset + 6)));
        using var zip = ZipFile.OpenRead(archive.Path);
        Assert.AreEqual(name, zip.Entries[1].FullName);
    }

    [TestMethod]
    public void NamesDifferingOnlyInCaseAreDifferentEntries()
    {
        var inputs = new List<ArchiveInput>
        {
            new("lib/A.so", ArchiveTestKit.CompressibleFile(_folder, "1.so", 100, seed: 4)),
            new("lib/a.so", ArchiveTestKit.CompressibleFile(_folder, "2.so", 100, seed: 5)),
        };
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Deflate, 0, 1, null, CancellationToken.None);
        Assert.AreEqual(2, archive.Entries.Count);
    }

    [TestMethod]
    public void AnExistingArchiveIsReplaced()
    {
        var destination = Path.Combine(_folder, "a.zip");
        File.WriteAllText(destination, "old");
        var archive = ArchiveWriter.Write(destination, SampleInputs(), ArchiveCompression.Stored, 0, 2, null, CancellationToken.None);

        Assert.AreEqual(Sha256Hex.OfFile(destination), archive.Sha256);
        CollectionAssert.AreEquivalent(new[] { "a.zip" }, FolderNames());
    }

    [TestMethod]
    public void AnEmptyListGivesAnEmptyArchive()
    {
        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), [], ArchiveCompression.Zstd, 0, 2, null, CancellationToken.None);
        Assert.AreEqual(22L, archive.Length);
        using var zip = ZipFile.OpenRead(archive.Path);
        Assert.AreEqual(0, zip.Entries.Count);
    }

    [TestMethod]
    public void ProgressLinesComeOnTheCallingThreadFromStartToFinish()
    {
        var inputs = new List<ArchiveInput> { new("big.so", ArchiveTestKit.CompressibleFile(_folder, "big.so", 8 << 20, seed: 6)) };
        var lines = new List<string>();
        var threads = new HashSet<int>();
        var settings = new ArchiveWriterSettings { DeflatePieceSize = 1 << 20, BufferSize = 1 << 16 };
        ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Deflate, 9, 1, line =>
        {
            lines.Add(line);
            threads.Add(Environment.CurrentManagedThreadId);
        }, settings, CancellationToken.None);

        StringAssert.StartsWith(lines[0], "Packing 1 file(s), 8.4 MB, into a.zip (deflate level 9, 1 worker(s)).");
        StringAssert.StartsWith(lines[^1], "Packed 1 file(s) into a.zip: 8.4 MB -> ");

        // Eight 1 MiB pieces, each an eighth of the total: every one of them is worth a line.
        var percents = lines.Skip(1).SkipLast(1)
            .Select(line => int.Parse(System.Text.RegularExpressions.Regex.Match(line, @"^Packing a\.zip: (\d+)% ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        Assert.IsGreaterThanOrEqualTo(4, percents.Length, string.Join("\n", lines));
        CollectionAssert.AreEqual(percents.Order().ToArray(), percents, "percentages only grow");
        Assert.IsLessThanOrEqualTo(100, percents[^1]);
        CollectionAssert.AreEqual(new[] { Environment.CurrentManagedThreadId }, threads.ToArray());
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Deflate, 10)]
    [DataRow(ArchiveCompression.Zstd, 23)]
    [DataRow(ArchiveCompression.Zstd, -1)]
    public void LevelsOutOfRangeAreRejected(ArchiveCompression compression, int level)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), SampleInputs(), compression, level, 1, null, CancellationToken.None));
        Assert.IsEmpty(FolderNames().Where(n => n.EndsWith(".zip", StringComparison.Ordinal) || n.StartsWith('.')));
    }

    private List<ArchiveInput> SampleInputs() =>
    [
        new("lib/libtext.so", ArchiveTestKit.CompressibleFile(_folder, "src/libtext.so", 300_000, seed: 11)),
        new("data/random.bin", ArchiveTestKit.RandomFile(_folder, "src/random.bin", 70_000, seed: 12)),
        new("empty", ArchiveTestKit.WriteFile(_folder, "src/empty", [])),
        new("model.onnx", ArchiveTestKit.CompressibleFile(_folder, "src/model.onnx", 1_500_000, seed: 13)),
        new("tiny", ArchiveTestKit.WriteFile(_folder, "src/tiny", [42])),
    ];

    private string[] FolderNames() => Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName).Where(n => n != "src").ToArray()!;
}
