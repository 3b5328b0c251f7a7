using System.Buffers.Binary;
using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>IsElf on files that are not ELF, and Read on files that are broken: always SNAP0020 naming the file, never a hang.</summary>
[TestClass]
public sealed class ElfFileCorruptTests
{
    // 7.5 KB, real, and its section header table sits at the end like in every linked library.
    private static string SmallLibrary => Path.Combine(TestPaths.LibTorchNativeFolder, "libtorch.so");

    private static string WriteFile(string name, byte[] contents, string? folder = null)
    {
        var path = Path.Combine(folder ?? TestPaths.NewTempFolder("elf-corrupt"), name);
        File.WriteAllBytes(path, contents);
        return path;
    }

    private static SnapLoaderBuildException AssertUnreadable(string path)
    {
        var thrown = ReadWithin10Seconds(path);
        Assert.IsInstanceOfType<SnapLoaderBuildException>(thrown, $"Expected SNAP0020 for {path}, got {thrown?.ToString() ?? "no exception"}.");
        var exception = (SnapLoaderBuildException)thrown;
        Assert.AreEqual(ErrorCodes.UnreadableElf, exception.Code);
        Assert.AreEqual(path, exception.File);
        Assert.Contains(path, exception.Message);
        return exception;
    }

    [TestMethod]
    [DataRow(new byte[0], DisplayName = "empty")]
    [DataRow(new byte[] { 0x7F, (byte)'E', (byte)'L' }, DisplayName = "3 bytes of the magic")]
    [DataRow(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'G', 2, 1, 1 }, DisplayName = "wrong fourth byte")]
    [DataRow(new byte[] { (byte)'#', (byte)'!', (byte)'/', (byte)'b', (byte)'i', (byte)'n', (byte)'\n' }, DisplayName = "script")]
    public void IsElfIsFalse(byte[] contents) => Assert.IsFalse(ElfFile.IsElf(WriteFile("not-elf.so", contents)));

    [TestMethod]
    public void IsElfOnATextFile()
    {
        var path = WriteFile("notes.txt", "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 461211481\n"u8.ToArray());
        Assert.IsFalse(ElfFile.IsElf(path));
    }

    [TestMethod]
    public void IsElfLooksAtTheMagicOnly() =>
        Assert.IsTrue(ElfFile.IsElf(WriteFile("magic.so", [0x7F, (byte)'E', (byte)'L', (byte)'F'])));

    [TestMethod]
    public void ReadATextFile()
    {
        var exception = AssertUnreadable(WriteFile("notes.so", "just some text that is long enough to be a header"u8.ToArray()));
        Assert.Contains("magic", exception.Message);
    }

    [TestMethod]
    public void ReadAnEmptyFile() => AssertUnreadable(WriteFile("empty.so", []));

    [TestMethod]
    public void ReadAMissingFile()
    {
        var path = Path.Combine(TestPaths.NewTempFolder("elf-missing"), "gone.so");
        var exception = AssertUnreadable(path);
        Assert.Contains("cannot be opened", exception.Message);
    }

    [TestMethod]
    public void ReadTheFirst100BytesOfOnnxRuntime()
    {
        var head = File.ReadAllBytes(TestPaths.OnnxRuntimeLibrary("linux-x64")).AsSpan(0, 100).ToArray();
        var exception = AssertUnreadable(WriteFile("libonnxruntime.so", head));
        Assert.Contains("truncated", exception.Message);
    }

    [TestMethod]
    public void ReadEveryTruncationOfASmallLibrary()
    {
        var whole = File.ReadAllBytes(SmallLibrary);
        var path = Path.Combine(TestPaths.NewTempFolder("elf-truncated"), "libtorch.so");
        for (var length = 0; length < whole.Length; length++)
        {
            File.WriteAllBytes(path, whole.AsSpan(0, length).ToArray());
            AssertUnreadable(path);
        }
    }

    [TestMethod]
    public void ReadRandomBytesAfterTheMagic()
    {
        var random = new Random(20);
        var folder = TestPaths.NewTempFolder("elf-random");
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var contents = new byte[random.Next(4, 4096)];
            random.NextBytes(contents);
            "\x7F"u8.CopyTo(contents);
            "ELF"u8.CopyTo(contents.AsSpan(1));
            AssertUnreadable(WriteFile($"random{attempt}.so", contents, folder));
        }
    }

    [TestMethod]
    public void ReadRandomBytesAfterAValidIdentification()
    {
        // Past the class, data and version checks, so the random offsets and counts reach the deeper checks and ELFSharp.
        var random = new Random(21);
        var folder = TestPaths.NewTempFolder("elf-random");
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var contents = new byte[random.Next(64, 8192)];
            random.NextBytes(contents);
            byte[] ident = [0x7F, (byte)'E', (byte)'L', (byte)'F', (byte)(attempt % 2 + 1), (byte)(attempt / 2 % 2 + 1), 1];
            ident.CopyTo(contents, 0);
            var littleEndian = ident[5] == 1;
            if (littleEndian)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(contents.AsSpan(20), 1);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(contents.AsSpan(20), 1);
            }
            var path = WriteFile($"random{attempt}.so", contents, folder);
            var thrown = ReadWithin10Seconds(path);
            // Random offsets of zero mean "no section headers", which is a valid file with nothing to report.
            Assert.IsTrue(thrown is null or SnapLoaderBuildException { Code: ErrorCodes.UnreadableElf }, $"{path}: {thrown}");
        }
    }

    [TestMethod]
    public void ReadASmallLibraryWithBytesFlippedInItsHeaders()
    {
        var whole = File.ReadAllBytes(SmallLibrary);
        var is64Bit = whole[4] == 2;
        Assert.IsTrue(is64Bit);
        var sectionHeaders = (int)BinaryPrimitives.ReadUInt64LittleEndian(whole.AsSpan(0x28));
        var (dynamicOffset, dynamicSize) = DynamicSection(whole);
        // The bytes ElfFile reads: the ELF header, the section header table and the dynamic section.
        (int Start, int Length)[] regions = [(0, 64), (sectionHeaders, whole.Length - sectionHeaders), (dynamicOffset, dynamicSize)];

        var random = new Random(22);
        var path = Path.Combine(TestPaths.NewTempFolder("elf-flipped"), "libtorch.so");
        var failures = 0;
        for (var attempt = 0; attempt < 2000; attempt++)
        {
            var contents = (byte[])whole.Clone();
            for (var flips = random.Next(1, 5); flips > 0; flips--)
            {
                var (start, length) = regions[random.Next(regions.Length)];
                contents[start + random.Next(length)] = (byte)random.Next(256);
            }
            File.WriteAllBytes(path, contents);
            var thrown = ReadWithin10Seconds(path);
            Assert.IsTrue(thrown is null or SnapLoaderBuildException { Code: ErrorCodes.UnreadableElf }, $"Attempt {attempt}: {thrown}");
            failures += thrown is null ? 0 : 1;
        }
        // Most flips land on fields nobody reads; a run where none is caught would mean the checks are not reached.
        Assert.IsTrue(failures > 50, $"Only {failures} of 2000 corrupted copies were reported.");
    }

    [TestMethod]
    public void ReadANeededEntryPointingPastTheStringTable()
    {
        var contents = File.ReadAllBytes(SmallLibrary);
        var (dynamicOffset, dynamicSize) = DynamicSection(contents);
        var needed = Enumerable.Range(0, dynamicSize / 16).Select(entry => dynamicOffset + entry * 16)
            .First(entry => BinaryPrimitives.ReadUInt64LittleEndian(contents.AsSpan(entry)) == 1);   // DT_NEEDED
        BinaryPrimitives.WriteUInt64LittleEndian(contents.AsSpan(needed + 8), 0x1_0000_0001);

        var exception = AssertUnreadable(WriteFile("libtorch.so", contents));

        Assert.Contains("Needed entry points at offset 4294967297", exception.Message);
    }

    [TestMethod]
    public void ReadASectionHeaderTableThatClaimsAMillionSections()
    {
        var contents = File.ReadAllBytes(SmallLibrary);
        var sectionHeaders = (int)BinaryPrimitives.ReadUInt64LittleEndian(contents.AsSpan(0x28));
        BinaryPrimitives.WriteUInt16LittleEndian(contents.AsSpan(0x3C), 0);   // e_shnum 0: the count is in sh_size of header 0
        BinaryPrimitives.WriteUInt64LittleEndian(contents.AsSpan(sectionHeaders + 32), 1_000_000);

        var exception = AssertUnreadable(WriteFile("libtorch.so", contents));

        Assert.Contains("1000000 section headers", exception.Message);
    }

    /// <summary>File offset and size of the SHT_DYNAMIC section of a little-endian ELF64 file.</summary>
    private static (int Offset, int Size) DynamicSection(byte[] elf)
    {
        var table = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        for (var index = 0; index < count; index++)
        {
            var entry = elf.AsSpan(table + index * entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]) == 6)
            {
                return ((int)BinaryPrimitives.ReadUInt64LittleEndian(entry[24..]), (int)BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]));
            }
        }
        throw new AssertFailedException("No dynamic section.");
    }
}
