using ELFSharp.ELF;
using ELFSharp.ELF.Sections;

namespace SnapLoader.Build.Tasks.Elf;

/// <summary>Reads machine, class and the dynamic section's SONAME, DT_NEEDED, DT_RUNPATH and DT_RPATH through ELFSharp.</summary>
/// <remarks>
/// ELFSharp's <c>ELF&lt;T&gt;</c> constructor materialises every section up front: each string table is read whole
/// into an array and every entry of .symtab and .dynsym becomes an object holding its name. It has no lazy mode and
/// does not memory-map; handing it a <see cref="FileStream"/> instead of a path changes nothing. On libtorch_cpu.so
/// (461 MB, with a 79 MB .strtab and 533,000 symbols) that took 1.5 s, 490 MB of allocations and a 406 MB peak working
/// set, all to reach 42 dynamic entries. So ELFSharp gets an <see cref="OverlayReadStream"/> of the file in which the
/// program header count reads as 0 and every section header but .shstrtab, .dynamic and .dynstr reads as SHT_NULL:
/// it then reads the headers, those three sections and nothing else (libtorch_cpu.so: 7 MB allocated, the .dynstr;
/// 20 ms on a first call, 3 ms after). LibObjectFile was no better fit: it has no dynamic section type and also
/// decodes every symbol table while reading.
/// </remarks>
internal static class ElfDynamicReader
{
    /// <exception cref="InvalidDataException">The dynamic section cannot be read; the message says why.</exception>
    public static ElfFacts Read(string path, Stream file, ElfHeaderLayout layout)
    {
        if (layout.SectionCount == 0 || layout.DynamicSectionIndex < 0)
        {
            // Without a dynamic section there is nothing the loader resolves, unless a PT_DYNAMIC segment says
            // otherwise: then the section headers were stripped and the dependencies cannot be read from them.
            if (layout.HasDynamicSegment)
            {
                throw new InvalidDataException("it has a PT_DYNAMIC segment but no SHT_DYNAMIC section header (were its section headers stripped?), so its dependencies cannot be read.");
            }
            return new ElfFacts(path, layout.Machine, layout.Is64Bit, null, [], [], []);
        }

        using var view = new OverlayReadStream(file, layout.DynamicOnlyOverlays());
        using var elf = ELFReader.Load(view, shouldOwnStream: false);
        if (elf.GetSection(layout.DynamicSectionIndex) is not IDynamicSection dynamic)
        {
            throw new InvalidDataException($"section {layout.DynamicSectionIndex} is not read as a dynamic section.");
        }
        if (elf.GetSection(layout.DynamicStringTableIndex) is not IStringTable strings)
        {
            throw new InvalidDataException($"section {layout.DynamicStringTableIndex} is not read as a string table.");
        }

        string? soname = null;
        var needed = new List<string>();
        var runpath = new List<string>();
        var rpath = new List<string>();
        foreach (var entry in dynamic.Entries)
        {
            if (entry.Tag == DynamicTag.Null)
            {
                break;   // DT_NULL ends the array; the section is often padded with more of them
            }
            switch (entry.Tag)
            {
                case DynamicTag.Needed:
                    needed.Add(StringAt(strings, entry, layout));
                    break;
                case DynamicTag.SoName:
                    soname ??= StringAt(strings, entry, layout);
                    break;
                case DynamicTag.RunPath:
                    runpath.AddRange(StringAt(strings, entry, layout).Split(':', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case DynamicTag.RPath:
                    rpath.AddRange(StringAt(strings, entry, layout).Split(':', StringSplitOptions.RemoveEmptyEntries));
                    break;
            }
        }
        return new ElfFacts(path, (ushort)elf.Machine, elf.Class == Class.Bit64, soname, needed, runpath, rpath);
    }

    private static string StringAt(IStringTable strings, IDynamicEntry entry, ElfHeaderLayout layout)
    {
        ulong offset = entry switch
        {
            DynamicEntry<ulong> wide => wide.Value,
            DynamicEntry<uint> narrow => narrow.Value,
            _ => throw new InvalidDataException($"ELFSharp returned a {entry.GetType().Name} dynamic entry."),
        };
        // ELFSharp truncates the offset to int and returns whatever string starts there; check it first.
        if (offset >= layout.DynamicStringTableSize)
        {
            throw new InvalidDataException($"its {entry.Tag} entry points at offset {offset} of a {layout.DynamicStringTableSize}-byte dynamic string table.");
        }
        return strings[(long)offset];
    }
}
