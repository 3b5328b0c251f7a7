namespace SnapLoader.Build.Tasks.Elf;

/// <summary>What the build needs to know about one ELF shared library.</summary>
/// <param name="Path">The file the facts were read from.</param>
/// <param name="Machine">The <c>e_machine</c> value, for example 62 for x86-64 (see <see cref="ElfMachines"/>).</param>
/// <param name="Is64Bit">True for ELFCLASS64, false for ELFCLASS32.</param>
/// <param name="Soname">The DT_SONAME string, or null when the library has none.</param>
/// <param name="Needed">The DT_NEEDED strings, in the order of the dynamic section (the order the loader uses).</param>
/// <param name="Runpath">The directories of DT_RUNPATH, split on ':', in order; empty when there is none.</param>
/// <param name="Rpath">The directories of DT_RPATH, split on ':', in order; empty when there is none.</param>
public sealed record ElfFacts(
    string Path,
    ushort Machine,
    bool Is64Bit,
    string? Soname,
    IReadOnlyList<string> Needed,
    IReadOnlyList<string> Runpath,
    IReadOnlyList<string> Rpath)
{
    /// <summary>A readable name of <see cref="Machine"/>: "x86-64", "AArch64", "ARM", "i386", or "EM_&lt;n&gt;".</summary>
    public string MachineName => ElfMachines.Name(Machine);
}
