using System.Buffers.Binary;

namespace SnapLoader.Build.Tasks.Elf;

/// <summary>
/// The ELF header, the program header types and the section header table of one file, checked against the file's
/// length. The checks come before ELFSharp sees the file because ELFSharp allocates whatever size a header states
/// before it finds out that the file is shorter, and follows offsets without bounds checks.
/// </summary>
internal sealed class ElfHeaderLayout
{
    private const uint SectionTypeStringTable = 3;   // SHT_STRTAB
    private const uint SectionTypeDynamic = 6;       // SHT_DYNAMIC
    private const uint SectionTypeNoBits = 8;        // SHT_NOBITS
    private const uint SegmentTypeDynamic = 2;       // PT_DYNAMIC
    private const ushort ExtendedCount = 0xffff;     // PN_XNUM and SHN_XINDEX: the real value is in section header 0

    // Far above real shared libraries (libtorch_cpu.so: 38 section headers, a 672-byte .dynamic, a 7 MB .dynstr);
    // they only keep a corrupt header from making ELFSharp allocate gigabytes.
    private const long MaxSectionHeaderTableBytes = 16L << 20;
    private const ulong MaxDynamicSectionBytes = 1UL << 20;
    private const ulong MaxStringTableBytes = 256UL << 20;

    private readonly byte[] _header;
    private readonly byte[] _sectionHeaders;

    private ElfHeaderLayout(byte[] header, bool is64Bit, bool isLittleEndian, long sectionHeaderOffset, byte[] sectionHeaders, int sectionHeaderEntrySize)
    {
        _header = header;
        Is64Bit = is64Bit;
        IsLittleEndian = isLittleEndian;
        SectionHeaderOffset = sectionHeaderOffset;
        _sectionHeaders = sectionHeaders;
        SectionHeaderEntrySize = sectionHeaderEntrySize;
        Machine = U16(header, 18);
    }

    public bool Is64Bit { get; }

    public bool IsLittleEndian { get; }

    public ushort Machine { get; }

    public long SectionHeaderOffset { get; }

    public int SectionHeaderEntrySize { get; }

    public int SectionCount => SectionHeaderEntrySize == 0 ? 0 : _sectionHeaders.Length / SectionHeaderEntrySize;

    /// <summary>The index of .shstrtab, or 0 when there is none.</summary>
    public int SectionNamesIndex { get; private set; }

    /// <summary>The index of the first SHT_DYNAMIC section, or -1 when there is none.</summary>
    public int DynamicSectionIndex { get; private set; } = -1;

    /// <summary>The index of the string table the dynamic section links to, or -1 when there is no dynamic section.</summary>
    public int DynamicStringTableIndex { get; private set; } = -1;

    /// <summary>The size in bytes of that string table.</summary>
    public ulong DynamicStringTableSize { get; private set; }

    /// <summary>Whether a PT_DYNAMIC program header exists, that is whether the loader would find dependencies.</summary>
    public bool HasDynamicSegment { get; private set; }

    /// <summary>Reads and checks the headers.</summary>
    /// <exception cref="InvalidDataException">The file is not ELF, is truncated, or a header points outside it.</exception>
    public static ElfHeaderLayout Read(Stream file)
    {
        var length = file.Length;
        var ident = ReadAt(file, 0, (int)Math.Min(length, 16));
        if (ident.Length < 4 || ident[0] != 0x7F || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
        {
            throw new InvalidDataException("it does not start with the ELF magic bytes (0x7F 'E' 'L' 'F'), so it is not an ELF file.");
        }
        if (ident.Length < 16)
        {
            throw new InvalidDataException($"it is {length} bytes long, shorter than the 16-byte ELF identification: the file is truncated.");
        }
        var is64Bit = ident[4] switch
        {
            1 => false,
            2 => true,
            _ => throw new InvalidDataException($"its ELF class byte is {ident[4]}, neither 1 (32-bit) nor 2 (64-bit)."),
        };
        var isLittleEndian = ident[5] switch
        {
            1 => true,
            2 => false,
            _ => throw new InvalidDataException($"its ELF data encoding byte is {ident[5]}, neither 1 (little-endian) nor 2 (big-endian)."),
        };
        var headerSize = is64Bit ? 64 : 52;
        if (length < headerSize)
        {
            throw new InvalidDataException($"it is {length} bytes long, shorter than its own {headerSize}-byte ELF header: the file is truncated.");
        }
        var header = ReadAt(file, 0, headerSize);
        var probe = new ElfHeaderLayout(header, is64Bit, isLittleEndian, 0, [], 0);
        var version = probe.U32(header, 20);
        if (version != 1)
        {
            throw new InvalidDataException($"its ELF version is {version}, not 1 (EV_CURRENT).");
        }

        var layout = ReadSectionHeaders(file, probe);
        layout.FindDynamicSection(length);
        layout.ReadProgramHeaderTypes(file);
        return layout;
    }

    /// <summary>
    /// Replacement bytes that make the file look as if it had no program headers and only these sections: header 0,
    /// .shstrtab, the dynamic section and its string table. Every other section header reads as zeros (SHT_NULL,
    /// no name, no contents), which ELFSharp turns into a plain section without reading anything.
    /// </summary>
    public IReadOnlyList<OverlayReadStream.Overlay> DynamicOnlyOverlays()
    {
        var header = (byte[])_header.Clone();
        header.AsSpan(Is64Bit ? 56 : 44, 2).Clear();   // e_phnum: ELFSharp would read every note segment

        var sections = (byte[])_sectionHeaders.Clone();
        for (var index = 1; index < SectionCount; index++)
        {
            if (index != SectionNamesIndex && index != DynamicSectionIndex && index != DynamicStringTableIndex)
            {
                sections.AsSpan(index * SectionHeaderEntrySize, SectionHeaderEntrySize).Clear();
            }
        }
        return [new(0, header), new(SectionHeaderOffset, sections)];
    }

    private static ElfHeaderLayout ReadSectionHeaders(Stream file, ElfHeaderLayout probe)
    {
        var header = probe._header;
        var offset = probe.Word(header, probe.Is64Bit ? 40 : 32);
        var entrySize = probe.U16(header, probe.Is64Bit ? 58 : 46);
        ulong count = probe.U16(header, probe.Is64Bit ? 60 : 48);
        uint namesIndex = probe.U16(header, probe.Is64Bit ? 62 : 50);
        if (offset == 0)
        {
            return probe;
        }

        var minimumEntrySize = probe.Is64Bit ? 64 : 40;
        if (entrySize < minimumEntrySize)
        {
            throw new InvalidDataException($"its section headers are {entrySize} bytes each, smaller than the {minimumEntrySize} bytes of an ELF{(probe.Is64Bit ? 64 : 32)} section header.");
        }
        if (count == 0 || namesIndex == ExtendedCount)
        {
            // More than 0xff00 sections: e_shnum is 0 and the count is sh_size of header 0; likewise e_shstrndx and sh_link.
            CheckRange(offset, entrySize, file.Length, "section header 0, which holds the section count,");
            var first = ReadAt(file, (long)offset, entrySize);
            if (count == 0)
            {
                count = probe.Word(first, probe.Is64Bit ? 32 : 20);
            }
            if (namesIndex == ExtendedCount)
            {
                namesIndex = probe.U32(first, probe.Is64Bit ? 40 : 24);
            }
        }
        if (count == 0)
        {
            return probe;
        }
        if (count > (ulong)(MaxSectionHeaderTableBytes / entrySize))
        {
            throw new InvalidDataException($"it declares {count} section headers, more than the {MaxSectionHeaderTableBytes / entrySize} a shared library could plausibly have.");
        }
        CheckRange(offset, count * entrySize, file.Length, "the section header table");
        var table = ReadAt(file, (long)offset, checked((int)(count * entrySize)));
        var layout = new ElfHeaderLayout(header, probe.Is64Bit, probe.IsLittleEndian, (long)offset, table, entrySize);

        if (namesIndex != 0)
        {
            if (namesIndex >= count)
            {
                throw new InvalidDataException($"its section name string table index {namesIndex} is past its {count} section headers.");
            }
            layout.CheckStringTable((int)namesIndex, file.Length, "the section name string table");
            layout.SectionNamesIndex = (int)namesIndex;
        }
        return layout;
    }

    private void FindDynamicSection(long length)
    {
        for (var index = 1; index < SectionCount; index++)
        {
            if (SectionType(index) != SectionTypeDynamic)
            {
                continue;
            }
            var size = SectionSize(index);
            if (size > MaxDynamicSectionBytes)
            {
                throw new InvalidDataException($"its dynamic section (section {index}) is {size} bytes long, far more than a real one (at most {MaxDynamicSectionBytes}).");
            }
            CheckRange(SectionOffset(index), size, length, $"the dynamic section (section {index})");
            var link = SectionLink(index);
            if (link == 0 || link >= (uint)SectionCount)
            {
                throw new InvalidDataException($"its dynamic section (section {index}) links to string table section {link}, which does not exist.");
            }
            CheckStringTable((int)link, length, "the dynamic string table");
            DynamicSectionIndex = index;
            DynamicStringTableIndex = (int)link;
            DynamicStringTableSize = SectionSize((int)link);
            return;
        }
    }

    private void ReadProgramHeaderTypes(Stream file)
    {
        var offset = Word(_header, Is64Bit ? 32 : 28);
        var entrySize = U16(_header, Is64Bit ? 54 : 42);
        ulong count = U16(_header, Is64Bit ? 56 : 44);
        if (count == ExtendedCount && SectionCount > 0)
        {
            count = SectionInfo(0);
        }
        if (count == 0 || offset == 0)
        {
            return;
        }
        var minimumEntrySize = Is64Bit ? 56 : 32;
        if (entrySize < minimumEntrySize)
        {
            throw new InvalidDataException($"its program headers are {entrySize} bytes each, smaller than the {minimumEntrySize} bytes of an ELF{(Is64Bit ? 64 : 32)} program header.");
        }
        CheckRange(offset, count * entrySize, file.Length, "the program header table");
        var table = ReadAt(file, (long)offset, checked((int)(count * entrySize)));
        for (var index = 0; index < (int)count; index++)
        {
            if (U32(table, index * entrySize) == SegmentTypeDynamic)
            {
                HasDynamicSegment = true;
            }
        }
    }

    private void CheckStringTable(int index, long length, string what)
    {
        var type = SectionType(index);
        if (type == SectionTypeNoBits)
        {
            throw new InvalidDataException($"{what} (section {index}) has no contents in the file (SHT_NOBITS).");
        }
        if (type != SectionTypeStringTable)
        {
            throw new InvalidDataException($"{what} (section {index}) has section type {type}, not SHT_STRTAB (3).");
        }
        var size = SectionSize(index);
        if (size > MaxStringTableBytes)
        {
            throw new InvalidDataException($"{what} (section {index}) is {size} bytes long, more than the {MaxStringTableBytes} bytes SnapLoader reads.");
        }
        CheckRange(SectionOffset(index), size, length, $"{what} (section {index})");
    }

    private static void CheckRange(ulong offset, ulong size, long length, string what)
    {
        if (offset > (ulong)length || size > (ulong)length - offset)
        {
            throw new InvalidDataException($"{what} at offset 0x{offset:X}, {size} bytes long, lies beyond the end of the {length}-byte file: the file is truncated or corrupt.");
        }
    }

    private static byte[] ReadAt(Stream file, long offset, int count)
    {
        var bytes = new byte[count];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    private uint SectionType(int index) => U32(_sectionHeaders, index * SectionHeaderEntrySize + 4);

    private ulong SectionOffset(int index) => Word(_sectionHeaders, index * SectionHeaderEntrySize + (Is64Bit ? 24 : 16));

    private ulong SectionSize(int index) => Word(_sectionHeaders, index * SectionHeaderEntrySize + (Is64Bit ? 32 : 20));

    private uint SectionLink(int index) => U32(_sectionHeaders, index * SectionHeaderEntrySize + (Is64Bit ? 40 : 24));

    private uint SectionInfo(int index) => U32(_sectionHeaders, index * SectionHeaderEntrySize + (Is64Bit ? 44 : 28));

    private ushort U16(byte[] bytes, int at) => IsLittleEndian
        ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at))
        : BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at));

    private uint U32(byte[] bytes, int at) => IsLittleEndian
        ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at))
        : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));

    /// <summary>An address or offset field: 4 bytes in ELF32, 8 in ELF64.</summary>
    private ulong Word(byte[] bytes, int at) => Is64Bit
        ? (IsLittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at)))
        : U32(bytes, at);
}
