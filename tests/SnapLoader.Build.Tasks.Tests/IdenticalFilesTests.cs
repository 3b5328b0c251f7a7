using System.IO.Compression;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// Byte-identical moved files (LLamaSharp.Backend.Cpu and Whisper.net.Runtime ship the same file in several folders)
/// are stored once: one entry, named after the first of them, which the manifest names for the others.
/// </summary>
[TestClass]
public sealed class IdenticalFilesTests
{
    private const string Avx = "runtimes/linux-x64/native/avx/libmtmd.so";
    private const string Avx2 = "runtimes/linux-x64/native/avx2/libmtmd.so";
    private const string Avx512 = "runtimes/linux-x64/native/avx512/libmtmd.so";
    private const string SameSize = "runtimes/linux-x64/native/avx/libggml.so";
    private const string Small = "runtimes/linux-x64/native/avx/libggml-base.so";

    // Small pieces and frames, so deflate and zstd take the multi-piece paths, where a kept file's digests come from
    // the comparison rather than from a hashing job of its own.
    private static readonly ArchiveWriterSettings s_smallPieces = new() { DeflatePieceSize = 64 << 10, ZstdFrameSize = 64 << 10, BufferSize = 16 << 10 };

    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = ArchiveTestKit.NewFolder("identical");

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public void IdenticalInputsAreStoredOnceUnderTheFirstOnesName(ArchiveCompression compression)
    {
        var inputs = Inputs();

        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, compression, 0, 3, null, s_smallPieces, CancellationToken.None);

        CollectionAssert.AreEqual(new[] { Avx, SameSize, Small }, archive.Entries.Select(e => e.EntryName).ToArray(),
            "one entry per content, in input order; a file of the same size but other bytes keeps its own");
        CollectionAssert.AreEqual(new[] { new DuplicateInput(Avx2, Avx), new DuplicateInput(Avx512, Avx) }, archive.Duplicates.ToArray());
        var entryOf = archive.EntryOfEachInput();
        Assert.HasCount(5, entryOf);
        foreach (var input in inputs)
        {
            var bytes = File.ReadAllBytes(input.SourcePath);
            Assert.AreEqual(Sha256Hex.Of(bytes), entryOf[input.EntryName].Sha256, input.EntryName);
            Assert.AreEqual(bytes.Length, entryOf[input.EntryName].Size, input.EntryName);
            Assert.AreEqual(System.IO.Hashing.Crc32.HashToUInt32(bytes), entryOf[input.EntryName].Crc32, input.EntryName);
        }

        if (compression == ArchiveCompression.Zstd)
        {
            foreach (var entry in archive.Entries)
            {
                CollectionAssert.AreEqual(File.ReadAllBytes(inputs.First(i => i.EntryName == entry.EntryName).SourcePath), ArchiveTestKit.DecodeZstdEntry(archive.Path, entry));
            }
            return;
        }
        using (var zip = ZipFile.OpenRead(archive.Path))
        {
            CollectionAssert.AreEqual(new[] { Avx, SameSize, Small }, zip.Entries.Select(e => e.FullName).ToArray());
            foreach (var zipEntry in zip.Entries)
            {
                using var data = new MemoryStream();
                using (var stream = zipEntry.Open())
                {
                    stream.CopyTo(data);
                }
                CollectionAssert.AreEqual(File.ReadAllBytes(inputs.First(i => i.EntryName == zipEntry.FullName).SourcePath), data.ToArray(), zipEntry.FullName);
            }
        }
        ArchiveTestKit.AssertPythonAgrees(archive, test: true);
    }

    [TestMethod]
    public void TheSameInputsGiveTheSameArchiveWithAnyNumberOfWorkers()
    {
        var inputs = Inputs();

        var one = ArchiveWriter.Write(Path.Combine(_folder, "one.zip"), inputs, ArchiveCompression.Zstd, 0, 1, null, s_smallPieces, CancellationToken.None);
        var four = ArchiveWriter.Write(Path.Combine(_folder, "four.zip"), inputs, ArchiveCompression.Zstd, 0, 4, null, s_smallPieces, CancellationToken.None);

        Assert.AreEqual(one.Sha256, four.Sha256);
        CollectionAssert.AreEqual(one.Duplicates.ToArray(), four.Duplicates.ToArray());
    }

    [TestMethod]
    public void ProgressCountsEachStoredContentOnce()
    {
        var inputs = Inputs();
        var lines = new List<string>();

        ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), inputs, ArchiveCompression.Deflate, 1, 2, lines.Add, s_smallPieces, CancellationToken.None);

        StringAssert.StartsWith(lines[0], "Packing 3 file(s), 0.4 MB, into a.zip");
        StringAssert.StartsWith(lines[^1], "Packed 3 file(s) into a.zip: 0.4 MB -> ");
    }

    [TestMethod]
    public void PackArchiveNamesTheEntryOnEachCopyAndSaysWhatStoringOnceSaved()
    {
        var inputs = Inputs();
        var obj = Path.Combine(_folder, "obj");
        var engine = new RecordingBuildEngine();
        var task = Pack(engine, obj, inputs);

        Assert.IsTrue(task.Execute(), engine.AllText);

        using (var zip = ZipFile.OpenRead(task.ArchivePath))
        {
            Assert.AreEqual(3, zip.Entries.Count);
        }
        AssertPackedFiles(task.PackedFiles, inputs);
        var message = engine.Messages.Single(m => m.Message!.Contains("byte-identical", StringComparison.Ordinal));
        Assert.AreEqual(MessageImportance.High, message.Importance);
        StringAssert.StartsWith(message.Message, "SnapLoader: 2 moved file(s) are byte-identical to another and share its archive entry (");
        StringAssert.Contains(message.Message, "MB less in the archive, 0.4 MB less memory at init):");
        StringAssert.EndsWith(message.Message, $"\n  {Avx} = {Avx2} = {Avx512}");

        // Up to date: the stamp brings back the same entries and the same report, without packing.
        var again = new RecordingBuildEngine();
        var second = Pack(again, obj, inputs);
        Assert.IsTrue(second.Execute(), again.AllText);
        StringAssert.Contains(again.AllText, "is up to date");
        Assert.AreEqual(task.ArchiveSha256, second.ArchiveSha256);
        AssertPackedFiles(second.PackedFiles, inputs);
        StringAssert.Contains(again.AllText, $"\n  {Avx} = {Avx2} = {Avx512}");
    }

    [TestMethod]
    public void WithoutIdenticalFilesNothingIsReportedAndNoFileNamesAnEntry()
    {
        var a = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, 1);
        var b = ArchiveTestKit.CompressibleFile(_folder, "b.so", 1000, 2);
        var engine = new RecordingBuildEngine();
        var task = Pack(engine, Path.Combine(_folder, "obj"), [new ArchiveInput("a.so", a), new ArchiveInput("b.so", b)]);

        Assert.IsTrue(task.Execute(), engine.AllText);

        Assert.IsTrue(task.PackedFiles.All(f => f.GetMetadata("SnapLoaderEntry").Length == 0));
        Assert.IsFalse(engine.AllText.Contains("byte-identical", StringComparison.Ordinal));
    }

    private static void AssertPackedFiles(ITaskItem[] packed, IReadOnlyList<ArchiveInput> inputs)
    {
        CollectionAssert.AreEqual(inputs.Select(i => i.EntryName).ToArray(), packed.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray(), "load order is kept");
        var byPath = packed.ToDictionary(f => f.GetMetadata("SnapLoaderRelativePath"));
        Assert.AreEqual("", byPath[Avx].GetMetadata("SnapLoaderEntry"), "the first copy has its own entry");
        Assert.AreEqual(Avx, byPath[Avx2].GetMetadata("SnapLoaderEntry"));
        Assert.AreEqual(Avx, byPath[Avx512].GetMetadata("SnapLoaderEntry"));
        Assert.AreEqual("", byPath[SameSize].GetMetadata("SnapLoaderEntry"));
        foreach (var input in inputs)
        {
            Assert.AreEqual(Sha256Hex.OfFile(input.SourcePath), byPath[input.EntryName].GetMetadata("SnapLoaderSha256"), input.EntryName);
            Assert.AreEqual(new FileInfo(input.SourcePath).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), byPath[input.EntryName].GetMetadata("SnapLoaderSize"));
        }
    }

    private static PackArchive Pack(RecordingBuildEngine engine, string obj, IReadOnlyList<ArchiveInput> inputs) => new()
    {
        BuildEngine = engine,
        IntermediateDirectory = obj,
        Compression = "Zstd",
        MaxParallelism = 2,
        Files = inputs.Select(i =>
        {
            var item = new TaskItem(i.SourcePath);
            item.SetMetadata("SnapLoaderRelativePath", i.EntryName);
            item.SetMetadata("SnapLoaderKind", "NativeLibrary");
            return (ITaskItem)item;
        }).ToArray(),
    };

    /// <summary>
    /// Three copies of one file in CPU-variant folders (separate files on disk), a file of the same size with other
    /// bytes, and a small one.
    /// </summary>
    private List<ArchiveInput> Inputs()
    {
        var library = ArchiveTestKit.CompressibleFile(_folder, "avx/libmtmd.so", 200_000, 1);
        return
        [
            new(Avx, library),
            new(SameSize, ArchiveTestKit.CompressibleFile(_folder, "avx/libggml.so", 200_000, 2)),
            new(Avx2, Copy(library, "avx2/libmtmd.so")),
            new(Small, ArchiveTestKit.CompressibleFile(_folder, "avx/libggml-base.so", 5_000, 3)),
            new(Avx512, Copy(library, "avx512/libmtmd.so")),
        ];
    }

    private string Copy(string source, string name)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(source, path);
        return path;
    }
}
