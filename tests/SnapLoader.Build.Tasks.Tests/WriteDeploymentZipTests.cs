using System.IO.Compression;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WriteDeploymentZipTests
{
    [TestMethod]
    public void TheZipCarriesUnixModesAndUnpacksWithAnExecutableWrapper()
    {
        var folder = TestPaths.NewTempFolder("deployzip");
        var publish = Directory.CreateDirectory(Path.Combine(folder, "publish")).FullName;
        File.WriteAllText(Path.Combine(publish, "snaploader-exec-wrapper"), "#!/bin/sh\nexec \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(publish, "snaploader-exec-wrapper"), UnixFileMode.UserRead | UnixFileMode.UserWrite); // as NuGet leaves it
        File.WriteAllText(Path.Combine(publish, "tool"), "x");
        File.SetUnixFileMode(Path.Combine(publish, "tool"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(publish, "sub"));
        File.WriteAllText(Path.Combine(publish, "sub", "Function.dll"), "managed");
        var zipPath = Path.Combine(folder, "out", "function.zip");

        var engine = new RecordingBuildEngine();
        var task = new WriteDeploymentZip { BuildEngine = engine, PublishDirectory = publish, ZipPath = zipPath, ExecutableFiles = ["snaploader-exec-wrapper"] };
        Assert.IsTrue(task.Execute(), engine.AllText);

        using (var zip = ZipFile.OpenRead(zipPath))
        {
            CollectionAssert.AreEqual(new[] { "snaploader-exec-wrapper", "sub/Function.dll", "tool" }, zip.Entries.Select(e => e.FullName).ToArray());
            Assert.AreEqual(0x81ED, zip.GetEntry("snaploader-exec-wrapper")!.ExternalAttributes >>> 16, "regular file, 0755");
            Assert.AreEqual(0x81ED, zip.GetEntry("tool")!.ExternalAttributes >>> 16, "executable on disk stays executable");
            Assert.AreEqual(0x81A4, zip.GetEntry("sub/Function.dll")!.ExternalAttributes >>> 16, "regular file, 0644");
        }
        // The same publish gives the same bytes.
        var first = File.ReadAllBytes(zipPath);
        Assert.IsTrue(new WriteDeploymentZip { BuildEngine = engine, PublishDirectory = publish, ZipPath = zipPath, ExecutableFiles = ["snaploader-exec-wrapper"] }.Execute());
        CollectionAssert.AreEqual(first, File.ReadAllBytes(zipPath));
        Assert.AreEqual(1, Directory.GetFiles(Path.GetDirectoryName(zipPath)!).Length, "no temporary file is left beside the zip");

        // Lambda unpacks with the modes of the zip; so does the unzip program.
        var unpacked = Path.Combine(folder, "unpacked");
        ProcessRunner.Run("unzip", ["-q", zipPath, "-d", unpacked], folder).EnsureSuccess("unzip");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(Path.Combine(unpacked, "snaploader-exec-wrapper")));
    }

    [TestMethod]
    public void AZipThatCannotBeWrittenFailsWithItsCodeAndLeavesNothing()
    {
        var folder = TestPaths.NewTempFolder("deployzip");
        var publish = Directory.CreateDirectory(Path.Combine(folder, "publish")).FullName;
        File.WriteAllText(Path.Combine(publish, "a.txt"), "a");
        var blocker = Path.Combine(folder, "blocker");
        File.WriteAllText(blocker, "a file where a folder should be");
        var zipPath = Path.Combine(blocker, "function.zip");

        var engine = new RecordingBuildEngine();
        Assert.IsFalse(new WriteDeploymentZip { BuildEngine = engine, PublishDirectory = publish, ZipPath = zipPath }.Execute());

        CollectionAssert.AreEqual(new[] { "SNAP0013" }, engine.ErrorCodes.ToArray());
        StringAssert.Contains(engine.AllText, zipPath);
        CollectionAssert.AreEquivalent(new[] { blocker, publish }, Directory.GetFileSystemEntries(folder));
    }
}
