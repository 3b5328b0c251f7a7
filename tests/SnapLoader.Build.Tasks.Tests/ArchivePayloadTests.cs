using System.IO.Compression;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>Round trips of the real payloads the package exists for.</summary>
[TestClass]
public sealed class ArchivePayloadTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = ArchiveTestKit.NewFolder("payload");

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    public void OnnxRuntimeRoundTripsThroughZipArchive(ArchiveCompression compression)
    {
        var source = TestPaths.OnnxRuntimeLibrary();
        var expected = Sha256Hex.OfFile(source);

        var archive = ArchiveWriter.Write(Path.Combine(_folder, "a.zip"), [new("libonnxruntime.so", source)], compression, 0, 2, null, CancellationToken.None);

        Assert.AreEqual(expected, archive.Entries[0].Sha256);
        Assert.AreEqual(new FileInfo(source).Length, archive.Entries[0].Size);
        using var zip = ZipFile.OpenRead(archive.Path);
        using var stream = zip.Entries.Single().Open();
        using var data = new MemoryStream();
        stream.CopyTo(data);
        Assert.AreEqual(expected, Sha256Hex.Of(data.ToArray()));
        if (compression == ArchiveCompression.Deflate)
        {
            Assert.IsLessThan(archive.Entries[0].Size * 6 / 10, archive.Entries[0].CompressedSize);
        }
    }

    [TestMethod]
    public void OnnxRuntimeRoundTripsThroughZstdIdenticallyOnOneOrTwoWorkers()
    {
        // 29 MB: above the threshold, so zstd's own workers compress it in several jobs.
        var source = TestPaths.OnnxRuntimeLibrary();
        var expected = Sha256Hex.OfFile(source);

        var one = ArchiveWriter.Write(Path.Combine(_folder, "one.zip"), [new("libonnxruntime.so", source)], ArchiveCompression.Zstd, 0, 1, null, CancellationToken.None);
        var two = ArchiveWriter.Write(Path.Combine(_folder, "two.zip"), [new("libonnxruntime.so", source)], ArchiveCompression.Zstd, 0, 2, null, CancellationToken.None);

        Assert.AreEqual(one.Sha256, two.Sha256);
        Assert.AreEqual(expected, two.Entries[0].Sha256);
        Assert.AreEqual(expected, Sha256Hex.Of(ArchiveTestKit.DecodeZstdEntry(two.Path, two.Entries[0])));
    }
}
