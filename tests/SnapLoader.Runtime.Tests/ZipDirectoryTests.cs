using System.IO.Compression;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
public sealed class ZipDirectoryTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = TestPaths.NewTempFolder("zipdir");

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public async Task ReadsInfoZipArchiveWithFolderEntries()
    {
        var tree = Path.Combine(_folder, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "lib", "sub"));
        File.WriteAllText(Path.Combine(tree, "lib", "a.txt"), new string('a', 5000));
        File.WriteAllBytes(Path.Combine(tree, "lib", "sub", "b.bin"), [1, 2, 3]);
        ProcessRunner.Run("zip", ["-r", "-q", "../user.zip", "lib"], tree).EnsureSuccess("zip");

        var entries = await ReadAsync(Path.Combine(_folder, "user.zip"));
        var files = entries.Where(e => !e.IsDirectory).ToDictionary(e => e.Name);
        Assert.AreEqual(2, files.Count);
        Assert.AreEqual(8, files["lib/a.txt"].Method);
        Assert.AreEqual(5000, files["lib/a.txt"].Size);
        Assert.AreEqual(3, files["lib/sub/b.bin"].Size);
        Assert.IsTrue(entries.Any(e => e.IsDirectory && e.Name == "lib/sub/"));
    }

    [TestMethod]
    public async Task ReadsPythonZipWithDataDescriptorsAndZip64LocalExtra()
    {
        // Writing to a pipe makes zipfile use data descriptors (sizes after the data, zeros in the local header);
        // force_zip64 gives the local header a Zip64 extra field the central header does not have.
        var archive = Path.Combine(_folder, "py.zip");
        TestArchives.PythonStreamedZip(archive, """
            with z.open('data/x.bin', 'w', force_zip64=True) as w: w.write(b'x' * 100000)
            z.writestr('y.txt', 'hello')
            """, _folder);

        var entries = await ReadAsync(archive);
        Assert.AreEqual(2, entries.Count);
        Assert.AreEqual("data/x.bin", entries[0].Name);
        Assert.AreEqual(100000, entries[0].Size);
        Assert.AreEqual(5, entries[1].Size);
    }

    [TestMethod]
    public async Task ReadsZip64EndRecordsOfAnArchiveWithMoreThan65535Entries()
    {
        // More entries than the classic end record can count: Python writes the Zip64 end record and locator, and the
        // 3.5 MB directory lies before the last 64 KiB, so it takes a second read.
        var archive = Path.Combine(_folder, "many.zip");
        TestArchives.Python("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                for i in range(65600):
                    z.writestr(f'd/{i:05}.txt', str(i))
            """, _folder, archive);

        var entries = await ReadAsync(archive);
        Assert.AreEqual(65600, entries.Count);
        Assert.AreEqual("d/65599.txt", entries[^1].Name);
        Assert.AreEqual(5, entries[^1].Size);

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, null, name => name is "d/00007.txt" or "d/65599.txt", LoaderSettings.Default, CancellationToken.None);
        try
        {
            CollectionAssert.AreEqual(new[] { "7", "65599" }, loaded.Select(f => File.ReadAllText(f.File.ProcPath)).ToArray());
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task ReadsInfoZipForcedZip64()
    {
        // zip -fz saturates the 32-bit size fields, puts the real sizes in Zip64 extra fields after other extra
        // fields (timestamps, uid/gid), and writes the Zip64 end record and locator.
        var tree = Path.Combine(_folder, "tree");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "a.txt"), "hello\n");
        File.WriteAllBytes(Path.Combine(tree, "b.bin"), new byte[100_000]);
        ProcessRunner.Run("zip", ["-q", "-fz", "../z64.zip", "a.txt", "b.bin"], tree).EnsureSuccess("zip");
        var archive = Path.Combine(_folder, "z64.zip");
        Assert.IsNotNull(ZipListing.Read(archive).Zip64EndRecordOffset, "zip -fz wrote a Zip64 end record");

        var entries = await ReadAsync(archive);
        Assert.AreEqual(6, entries[0].Size);
        Assert.AreEqual(100_000, entries[1].Size);

        await using var source = LocalFileArchiveSource.Open(archive);
        var loaded = await ArchiveLoader.LoadAsync(source, null, null, LoaderSettings.Default, CancellationToken.None);
        try
        {
            Assert.AreEqual("hello\n", File.ReadAllText(loaded[0].File.ProcPath));
            CollectionAssert.AreEqual(new byte[100_000], File.ReadAllBytes(loaded[1].File.ProcPath));
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task ReadsDotNetZipArchiveWithComment()
    {
        var archive = Path.Combine(_folder, "net.zip");
        using (var zip = ZipFile.Open(archive, ZipArchiveMode.Create))
        {
            zip.Comment = "a comment that the end record search must step over";
            using (var s = zip.CreateEntry("a.bin", CompressionLevel.NoCompression).Open()) { s.Write(new byte[1000]); }
            using (var s = zip.CreateEntry("b/c.bin", CompressionLevel.Optimal).Open()) { s.Write(new byte[1000]); }
        }
        var entries = await ReadAsync(archive);
        Assert.AreEqual(0, entries[0].Method);
        Assert.AreEqual(8, entries[1].Method);
        Assert.AreEqual(1000, entries[1].Size);
    }

    [TestMethod]
    [DataRow("../evil.so", "'..' segment")]
    [DataRow("lib/../../evil.so", "'..' segment")]
    [DataRow("/etc/evil.so", "is absolute")]
    [DataRow("lib\\evil.so", "backslash")]
    [DataRow("lib//evil.so", "empty segment")]
    [DataRow("./evil.so", "'.' segment")]
    [DataRow("C:/evil.so", "is absolute")]
    [DataRow("lib/evil\u0001.so", "control character (U+0001)")]
    public async Task RefusesNamesThatEscapeTheBase(string name, string why)
    {
        var archive = Path.Combine(_folder, "slip.zip");
        TestArchives.Python("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                z.writestr('good.txt', 'fine')
                z.writestr(zipfile.ZipInfo(sys.argv[2]), 'payload')
            """, _folder, archive, name);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(archive));
        Assert.AreEqual(RuntimeErrorCodes.UnsafeEntryName, error.Code);
        StringAssert.Contains(error.Message, why);
        StringAssert.Contains(error.Message, archive);
    }

    [TestMethod]
    public async Task ANameWithoutTheUtf8FlagIsReadAsLatin1AndAccepted()
    {
        // CP437's accented letters (0x80-0x9F, as older Windows tools write them) are not valid UTF-8 and, read as
        // Latin-1, land on U+0080-U+009F: not control characters to the name rules.
        var archive = Path.Combine(_folder, "cp437.zip");
        using (var zip = new ZipArchive(File.Create(archive), ZipArchiveMode.Create, leaveOpen: false, entryNameEncoding: System.Text.Encoding.Latin1))
        {
            using var s = zip.CreateEntry("caf\u0082.txt", CompressionLevel.NoCompression).Open();
            s.Write([1, 2, 3]);
        }

        var entries = await ReadAsync(archive);

        Assert.AreEqual("caf\u0082.txt", entries.Single().Name);
    }

    [TestMethod]
    public async Task RefusesSymlinkEntries()
    {
        var tree = Path.Combine(_folder, "tree");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "real.txt"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "link.so"), "/etc/passwd");
        ProcessRunner.Run("zip", ["--symlinks", "-q", "../links.zip", "real.txt", "link.so"], tree).EnsureSuccess("zip");

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(Path.Combine(_folder, "links.zip")));
        Assert.AreEqual(RuntimeErrorCodes.SymlinkEntry, error.Code);
        StringAssert.Contains(error.Message, "'link.so'");
    }

    [TestMethod]
    public async Task TruncatedArchiveIsNamedAsSuch()
    {
        var archive = Path.Combine(_folder, "t.zip");
        TestArchives.DotNetZipOfZeros(archive, "a.bin", 100000);
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..(bytes.Length / 2)]);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(archive));
        Assert.AreEqual(RuntimeErrorCodes.TruncatedArchive, error.Code);
        StringAssert.Contains(error.Message, $"({bytes.Length / 2:N0} bytes)");
    }

    [TestMethod]
    public async Task DamagedCentralDirectoryIsCorrupt()
    {
        var archive = Path.Combine(_folder, "c.zip");
        TestArchives.DotNetZipOfZeros(archive, "a.bin", 1000);
        var bytes = File.ReadAllBytes(archive);
        bytes[ZipListing.Read(bytes).DirectoryOffset + 3] = 0x09;
        File.WriteAllBytes(archive, bytes);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(archive));
        Assert.AreEqual(RuntimeErrorCodes.CorruptDirectory, error.Code);
        StringAssert.Contains(error.Message, "central directory entry 0");
    }

    [TestMethod]
    [DataRow("same.so", "same.so")]
    [DataRow("lib/same", "lib/same/")] // a file and a folder would need one path in the folder of links
    public async Task DuplicateNamesAreRefused(string first, string second)
    {
        var archive = Path.Combine(_folder, "dup.zip");
        TestArchives.Python("""
            import sys, zipfile, warnings
            warnings.simplefilter('ignore')
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                z.writestr(sys.argv[2], 'one')
                z.writestr(sys.argv[3], '' if sys.argv[3].endswith('/') else 'two')
            """, _folder, archive, first, second);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(archive));
        Assert.AreEqual(RuntimeErrorCodes.DuplicateEntry, error.Code);
        StringAssert.Contains(error.Message, $"'{first}' twice");
    }

    [TestMethod]
    public async Task NotAZipHasNoEndRecord()
    {
        var path = Path.Combine(_folder, "not.zip");
        File.WriteAllBytes(path, new byte[200_000]);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ReadAsync(path));
        Assert.AreEqual(RuntimeErrorCodes.TruncatedArchive, error.Code);
    }

    [TestMethod]
    public void MissingFileIsUnreadable()
    {
        var path = Path.Combine(_folder, "absent.zip");
        var error = Assert.ThrowsExactly<SnapLoaderException>(() => LocalFileArchiveSource.Open(path));
        Assert.AreEqual(RuntimeErrorCodes.ArchiveUnreadable, error.Code);
        StringAssert.Contains(error.Message, path);
    }

    private static async Task<IReadOnlyList<ZipEntryRecord>> ReadAsync(string path)
    {
        await using var source = LocalFileArchiveSource.Open(path);
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        // Every entry's local header must agree too.
        foreach (var entry in directory.Entries)
        {
            await directory.GetDataOffsetAsync(source, entry, CancellationToken.None);
        }
        return directory.Entries;
    }
}
