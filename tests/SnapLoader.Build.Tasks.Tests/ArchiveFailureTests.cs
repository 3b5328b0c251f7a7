using SnapLoader.Build.Tasks.Archive;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class ArchiveFailureTests
{
    private string _folder = "";
    private string _output = "";

    [TestInitialize]
    public void CreateFolders()
    {
        _folder = ArchiveTestKit.NewFolder("failure");
        _output = Path.Combine(_folder, "out");
        Directory.CreateDirectory(_output);
    }

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    public void AMissingSourceIsSnap0011NamingIt()
    {
        var present = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, seed: 1);
        var missing = Path.Combine(_folder, "missing.so");

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => Write([new("a.so", present), new("b.so", missing)], ArchiveCompression.Deflate));

        Assert.AreEqual("SNAP0011", error.Code);
        Assert.AreEqual(missing, error.File);
        StringAssert.Contains(error.Message, missing);
        StringAssert.Contains(error.Message, "'b.so'");
        Assert.IsEmpty(Directory.GetFileSystemEntries(_output));
    }

    [TestMethod]
    public void AFolderGivenAsSourceIsSnap0011()
    {
        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => Write([new("a.so", _output)], ArchiveCompression.Stored));
        Assert.AreEqual("SNAP0011", error.Code);
        StringAssert.Contains(error.Message, "folder");
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public void ASourceThatChangesWhileBeingReadIsSnap0011AndLeavesNothing(ArchiveCompression compression)
    {
        // /proc files report length 0 and then return data: the same as a file that grew after it was measured.
        const string growing = "/proc/self/status";
        if (!File.Exists(growing))
        {
            Assert.Inconclusive("Needs Linux /proc.");
        }
        var first = ArchiveTestKit.CompressibleFile(_folder, "a.so", 3 << 20, seed: 1);

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => Write([new("a.so", first), new("status", growing)], compression));

        Assert.AreEqual("SNAP0011", error.Code);
        Assert.AreEqual(growing, error.File);
        StringAssert.Contains(error.Message, "grew");
        Assert.IsEmpty(Directory.GetFileSystemEntries(_output), "no temporary or scratch file is left");
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Zstd)]
    public void AnArchiveThatCannotTakeItsNameIsSnap0010AndLeavesNoTemporaryFile(ArchiveCompression compression)
    {
        // A folder where the archive should go: everything is written, only the final rename fails.
        var destination = Path.Combine(_output, "a.zip");
        Directory.CreateDirectory(destination);
        var source = ArchiveTestKit.CompressibleFile(_folder, "a.so", 100_000, seed: 1);

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() =>
            ArchiveWriter.Write(destination, [new("a.so", source)], compression, 0, 2, null, CancellationToken.None));

        Assert.AreEqual("SNAP0010", error.Code);
        Assert.AreEqual(destination, error.File);
        StringAssert.Contains(error.Message, destination);
        CollectionAssert.AreEqual(new[] { destination }, Directory.GetFileSystemEntries(_output));
        Assert.IsEmpty(Directory.GetFileSystemEntries(destination));
    }

    [TestMethod]
    public void ADestinationUnderAFileIsSnap0010()
    {
        var blocker = ArchiveTestKit.WriteFile(_folder, "blocker", [1]);
        var source = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, seed: 1);
        var destination = Path.Combine(blocker, "a.zip");

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() =>
            ArchiveWriter.Write(destination, [new("a.so", source)], ArchiveCompression.Deflate, 0, 2, null, CancellationToken.None));

        Assert.AreEqual("SNAP0010", error.Code);
        Assert.AreEqual(destination, error.File);
    }

    [TestMethod]
    [DataRow(ArchiveCompression.Stored)]
    [DataRow(ArchiveCompression.Deflate)]
    [DataRow(ArchiveCompression.Zstd)]
    public void CancellingMidwayLeavesNothing(ArchiveCompression compression)
    {
        var inputs = Enumerable.Range(0, 6)
            .Select(i => new ArchiveInput($"lib/{i}.so", ArchiveTestKit.CompressibleFile(_folder, $"{i}.so", 2 << 20, seed: i)))
            .ToList();
        using var cancellation = new CancellationTokenSource();
        var calls = 0;

        // The first line comes once the temporary files exist, so this cancels with work under way.
        Assert.Throws<OperationCanceledException>(() => ArchiveWriter.Write(
            Path.Combine(_output, "a.zip"),
            inputs,
            compression,
            0,
            2,
            _ =>
            {
                calls++;
                cancellation.Cancel();
            },
            cancellation.Token));

        Assert.AreEqual(1, calls);
        Assert.IsEmpty(Directory.GetFileSystemEntries(_output));
    }

    [TestMethod]
    public void AnAlreadyCancelledTokenWritesNothing()
    {
        var source = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, seed: 1);
        Assert.Throws<OperationCanceledException>(() =>
            ArchiveWriter.Write(Path.Combine(_output, "a.zip"), [new("a.so", source)], ArchiveCompression.Deflate, 0, 2, null, new CancellationToken(canceled: true)));
        Assert.IsEmpty(Directory.GetFileSystemEntries(_output));
    }

    private PackedArchive Write(IReadOnlyList<ArchiveInput> inputs, ArchiveCompression compression) =>
        ArchiveWriter.Write(Path.Combine(_output, "a.zip"), inputs, compression, 0, 2, null, CancellationToken.None);
}
