using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
public sealed class SymlinkFarmTests
{
    private static MemoryFile Sealed(string name, byte[] content) => MemoryFile.FromBytes(name, content);

    [TestMethod]
    public void LinksMirrorTheLayoutAndReadTheMemoryFiles()
    {
        var root = Path.Combine(TestPaths.NewTempFolder("farm"), "links");
        using var model = Sealed("model.onnx", [1, 2, 3]);
        using var library = Sealed("libx.so", [4, 5]);

        SymlinkFarm.Create(root, [("models/resnet/model.onnx", model), ("libx.so", library)]);

        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(root, "models/resnet/model.onnx")));
        Assert.AreEqual(library.ProcPath, new FileInfo(Path.Combine(root, "libx.so")).LinkTarget);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root), "owner-only folder");
        Assert.IsTrue(SymlinkFarm.IsIntact(root, [("libx.so", library)]));
    }

    [TestMethod]
    public void ALinkPlantedWhereTheFolderGoesIsRefused()
    {
        var temp = TestPaths.NewTempFolder("farm");
        var elsewhere = Directory.CreateDirectory(Path.Combine(temp, "elsewhere")).FullName;
        var root = Path.Combine(temp, "links");
        Directory.CreateSymbolicLink(root, elsewhere);
        using var file = Sealed("a", [1]);

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => SymlinkFarm.Create(root, [("a", file)]));

        StringAssert.Contains(error.Message, root);
        Assert.AreEqual(0, Directory.GetFileSystemEntries(elsewhere).Length, "nothing was written through the planted link");
    }

    [TestMethod]
    public void AMissingLinkIsNoticedAndRecreated()
    {
        var root = Path.Combine(TestPaths.NewTempFolder("farm"), "links");
        using var file = Sealed("a", [7]);
        SymlinkFarm.Create(root, [("sub/a", file)]);
        Directory.Delete(root, recursive: true);

        Assert.IsFalse(SymlinkFarm.IsIntact(root, [("sub/a", file)]));
        SymlinkFarm.Create(root, [("sub/a", file)]);

        CollectionAssert.AreEqual(new byte[] { 7 }, File.ReadAllBytes(Path.Combine(root, "sub/a")));
    }
}
