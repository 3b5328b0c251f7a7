using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
[DoNotParallelize] // One test sets SymlinkFarm's static test hook.
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
    public void ALinkPlantedBetweenCreatingTheFolderAndUsingItIsRefused()
    {
        // A racing process swaps the new folder for a link in the instant after it is made: the folder is opened
        // without following links, so the swap is caught and nothing is written where the link points.
        var temp = TestPaths.NewTempFolder("farm");
        var elsewhere = Directory.CreateDirectory(Path.Combine(temp, "elsewhere")).FullName;
        var root = Path.Combine(temp, "links");
        using var file = Sealed("a", [1]);
        SymlinkFarm.AfterRootCreatedForTests = created =>
        {
            Directory.Delete(created);
            Directory.CreateSymbolicLink(created, elsewhere);
        };
        try
        {
            var error = Assert.ThrowsExactly<SnapLoaderException>(() => SymlinkFarm.Create(root, [("lib/a", file)]));

            Assert.AreEqual(RuntimeErrorCodes.TargetDirectoryUnusable, error.Code);
            StringAssert.Contains(error.Message, $"'{root}' is a symbolic link to '{elsewhere}'");
            Assert.AreEqual(0, Directory.GetFileSystemEntries(elsewhere).Length, "nothing was written through the planted link");
        }
        finally
        {
            SymlinkFarm.AfterRootCreatedForTests = null;
        }
    }

    [TestMethod]
    public void ALinkPlantedOnTheWayInsideTheFolderIsNotFollowed()
    {
        var temp = TestPaths.NewTempFolder("farm");
        var elsewhere = Directory.CreateDirectory(Path.Combine(temp, "elsewhere")).FullName;
        var root = Path.Combine(temp, "links");
        Directory.CreateDirectory(root);
        Directory.CreateSymbolicLink(Path.Combine(root, "models"), elsewhere);
        using var file = Sealed("m", [1]);

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => SymlinkFarm.Create(root, [("models/m.onnx", file)]));

        Assert.AreEqual(RuntimeErrorCodes.TargetDirectoryUnusable, error.Code);
        StringAssert.Contains(error.Message, "'models' on its way is not a folder");
        Assert.AreEqual(0, Directory.GetFileSystemEntries(elsewhere).Length);
    }

    [TestMethod]
    public void AFolderOfAnotherUserIsRefused()
    {
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("Giving a folder to another user takes root.");
        }
        var root = Path.Combine(TestPaths.NewTempFolder("farm"), "links");
        Directory.CreateDirectory(root);
        ProcessRunner.Run("chown", ["4242", root], "/").EnsureSuccess("chown");
        using var file = Sealed("a", [1]);

        var error = Assert.ThrowsExactly<SnapLoaderException>(() => SymlinkFarm.Create(root, [("a", file)]));

        Assert.AreEqual(RuntimeErrorCodes.TargetDirectoryUnusable, error.Code);
        StringAssert.Contains(error.Message, "belongs to user 4242");
        Assert.AreEqual(0, Directory.GetFileSystemEntries(root).Length);
    }

    [TestMethod]
    public void AnOpenFolderOfTheUserIsMadeOwnerOnlyAndAStaleLinkIsReplaced()
    {
        var root = Path.Combine(TestPaths.NewTempFolder("farm"), "links");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0x1FF); // 0777
        File.CreateSymbolicLink(Path.Combine(root, "a"), "/proc/self/fd/999");
        using var file = Sealed("a", [9]);

        SymlinkFarm.Create(root, [("a", file)]);

        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
        Assert.AreEqual(file.ProcPath, new FileInfo(Path.Combine(root, "a")).LinkTarget);
        CollectionAssert.AreEqual(new[] { "a" }, Directory.GetFileSystemEntries(root).Select(Path.GetFileName).ToArray(), "no temporary link is left");
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
