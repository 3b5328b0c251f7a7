using System.Security.Cryptography;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class PackArchiveTests
{
    private static ITaskItem Moved(string path, string relativePath)
    {
        var item = new TaskItem(path);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("SnapLoaderKind", "Data");
        return item;
    }

    private static PackArchive Task(RecordingBuildEngine engine, string obj, params ITaskItem[] files) =>
        new() { BuildEngine = engine, Files = files, IntermediateDirectory = obj, Compression = "Deflate", MaxParallelism = 2 };

    [TestMethod]
    public void NamesTheArchiveByItsHashAndReportsEachFilesHash()
    {
        var folder = TestPaths.NewTempFolder("pack");
        var a = TestItems.WriteFile(folder, "a.bin", 3000, 1);
        var b = TestItems.WriteFile(folder, "b.bin", 5000, 2);
        var task = Task(new RecordingBuildEngine(), Path.Combine(folder, "obj"), Moved(b, "lib/b.bin"), Moved(a, "a.bin"));

        Assert.IsTrue(task.Execute());

        var archiveHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(task.ArchivePath))).ToLowerInvariant();
        Assert.AreEqual(archiveHash, task.ArchiveSha256);
        Assert.AreEqual(archiveHash + ".zip", task.ArchiveFileName);
        Assert.AreEqual(new FileInfo(task.ArchivePath).Length, task.ArchiveLength);
        CollectionAssert.AreEqual(new[] { "lib/b.bin", "a.bin" }, task.PackedFiles.Select(f => f.GetMetadata("SnapLoaderRelativePath")).ToArray(), "load order is kept");
        Assert.AreEqual(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(b))).ToLowerInvariant(), task.PackedFiles[0].GetMetadata("SnapLoaderSha256"));
        Assert.AreEqual("5000", task.PackedFiles[0].GetMetadata("SnapLoaderSize"));
        CollectionAssert.AreEqual(new[] { task.ArchiveFileName }, Directory.GetFiles(Path.Combine(folder, "obj"), "*.zip").Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void AnUnchangedSetIsNotPackedAgainAndAChangedOneIs()
    {
        var folder = TestPaths.NewTempFolder("pack");
        var obj = Path.Combine(folder, "obj");
        var a = TestItems.WriteFile(folder, "a.bin", 3000, 1);
        var first = Task(new RecordingBuildEngine(), obj, Moved(a, "a.bin"));
        Assert.IsTrue(first.Execute());
        var packedAt = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(first.ArchivePath, packedAt);

        var engine = new RecordingBuildEngine();
        var second = Task(engine, obj, Moved(a, "a.bin"));
        Assert.IsTrue(second.Execute());
        Assert.AreEqual(first.ArchivePath, second.ArchivePath);
        Assert.AreEqual(packedAt, File.GetLastWriteTimeUtc(second.ArchivePath), "nothing changed: the archive must not be rewritten");
        Assert.AreEqual(first.PackedFiles[0].GetMetadata("SnapLoaderSha256"), second.PackedFiles[0].GetMetadata("SnapLoaderSha256"));
        StringAssert.Contains(engine.AllText, "up to date");

        TestItems.WriteFile(folder, "a.bin", 3001, 1);
        var third = Task(new RecordingBuildEngine(), obj, Moved(a, "a.bin"));
        Assert.IsTrue(third.Execute());
        Assert.AreNotEqual(first.ArchiveSha256, third.ArchiveSha256);
        Assert.IsFalse(File.Exists(first.ArchivePath), "the stale archive is removed");
    }

    [TestMethod]
    public void SamePackTwiceGivesTheSameBytes()
    {
        var folder = TestPaths.NewTempFolder("pack");
        var a = TestItems.WriteFile(folder, "a.bin", 100_000, 7);
        var one = Task(new RecordingBuildEngine(), Path.Combine(folder, "one"), Moved(a, "a.bin"));
        var two = Task(new RecordingBuildEngine(), Path.Combine(folder, "two"), Moved(a, "a.bin"));
        one.Compression = two.Compression = "Zstd";

        Assert.IsTrue(one.Execute());
        Assert.IsTrue(two.Execute());

        Assert.AreEqual(one.ArchiveSha256, two.ArchiveSha256);
    }

    [TestMethod]
    public void AnUnknownCompressionOrLevelIsAnError()
    {
        var folder = TestPaths.NewTempFolder("pack");
        var a = TestItems.WriteFile(folder, "a.bin", 10);

        var engine = new RecordingBuildEngine();
        var task = Task(engine, Path.Combine(folder, "obj"), Moved(a, "a.bin"));
        task.Compression = "Brotli";
        Assert.IsFalse(task.Execute());
        Assert.AreEqual("SNAP0006", engine.Errors.Single().Code);
        StringAssert.Contains(engine.Errors.Single().Message, "Brotli");

        var levelEngine = new RecordingBuildEngine();
        var levelTask = Task(levelEngine, Path.Combine(folder, "obj"), Moved(a, "a.bin"));
        levelTask.Compression = "Zstd";
        levelTask.CompressionLevel = "99";
        Assert.IsFalse(levelTask.Execute());
        Assert.AreEqual("SNAP0006", levelEngine.Errors.Single().Code);
    }
}
