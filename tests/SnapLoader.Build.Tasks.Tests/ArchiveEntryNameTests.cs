using SnapLoader.Build.Tasks.Archive;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class ArchiveEntryNameTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = ArchiveTestKit.NewFolder("names");

    [TestCleanup]
    public void DeleteFolder() => ArchiveTestKit.DeleteFolder(_folder);

    [TestMethod]
    [DataRow("")]
    [DataRow("/lib/a.so")]
    [DataRow("lib\\a.so")]
    [DataRow("lib//a.so")]
    [DataRow("lib/")]
    [DataRow("./a.so")]
    [DataRow("lib/./a.so")]
    [DataRow("../a.so")]
    [DataRow("lib/../../a.so")]
    [DataRow("lib/..")]
    [DataRow("C:/lib/a.so")]
    [DataRow("lib/a\u0001.so")]
    public void AMalformedNameIsRejectedBeforeAnythingIsWritten(string name)
    {
        var source = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, seed: 1);
        var destination = Path.Combine(_folder, "out", "a.zip");

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => ArchiveWriter.Write(
            destination,
            [new("good.so", source), new(name, source)],
            ArchiveCompression.Deflate,
            0,
            2,
            null,
            CancellationToken.None));

        Assert.AreEqual("SNAP0012", error.Code);
        StringAssert.Contains(error.Message, $"'{name}'");
        Assert.AreEqual(source, error.File);
        Assert.IsFalse(Directory.Exists(Path.Combine(_folder, "out")), "nothing is created for a bad name");
    }

    [TestMethod]
    public void TwoSourcesThatDifferOnlyInCaseAreExplained()
    {
        // The SDK gives Model.bin and model.bin one publish path, as MSBuild treats them as one item.
        var upper = ArchiveTestKit.CompressibleFile(_folder, "Model.bin", 1000, seed: 1);
        var lower = ArchiveTestKit.CompressibleFile(_folder, "model.bin", 1000, seed: 2);

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => ArchiveWriter.Write(
            Path.Combine(_folder, "a.zip"), [new("model.bin", lower), new("model.bin", upper)], ArchiveCompression.Stored, 0, 1, null, CancellationToken.None));

        Assert.AreEqual("SNAP0012", error.Code);
        StringAssert.Contains(error.Message, "differ only in case");
        StringAssert.Contains(error.Message, "MSBuild compares item paths ignoring case");
        StringAssert.Contains(error.Message, "Rename one of them");
    }

    [TestMethod]
    public void ANameThatIsNotValidUnicodeIsRejected()
    {
        // Built here: an attribute argument cannot carry a lone surrogate intact.
        var name = "lib/" + '\ud800' + ".so";
        var source = ArchiveTestKit.CompressibleFile(_folder, "a.so", 1000, seed: 1);

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => ArchiveWriter.Write(
            Path.Combine(_folder, "a.zip"), [new(name, source)], ArchiveCompression.Stored, 0, 1, null, CancellationToken.None));

        Assert.AreEqual("SNAP0012", error.Code);
        StringAssert.Contains(error.Message, "Unicode");
    }

    [TestMethod]
    public void ARepeatedNameIsRejectedNamingBothSources()
    {
        var first = ArchiveTestKit.CompressibleFile(_folder, "1.so", 1000, seed: 1);
        var second = ArchiveTestKit.CompressibleFile(_folder, "2.so", 1000, seed: 2);

        var error = Assert.ThrowsExactly<SnapLoaderBuildException>(() => ArchiveWriter.Write(
            Path.Combine(_folder, "a.zip"),
            [new("lib/a.so", first), new("lib/b.so", first), new("lib/a.so", second)],
            ArchiveCompression.Zstd,
            0,
            2,
            null,
            CancellationToken.None));

        Assert.AreEqual("SNAP0012", error.Code);
        StringAssert.Contains(error.Message, "'lib/a.so'");
        StringAssert.Contains(error.Message, first);
        StringAssert.Contains(error.Message, second);
        Assert.IsFalse(File.Exists(Path.Combine(_folder, "a.zip")));
    }
}
