using System.Buffers.Binary;
using System.Reflection.PortableExecutable;
using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks;

/// <summary>Tells native code for another platform than Lambda's from everything else in a deployment.</summary>
internal static class ForeignBinary
{
    private static ReadOnlySpan<byte> ElfMagic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>
    /// What platform <paramref name="path"/> is native code for, when it is not <paramref name="machine"/>'s Linux:
    /// "Windows PE, x86-64" for a PE image without .NET metadata, "macOS Mach-O, arm64" (or "universal") for a Mach-O
    /// file, "ELF, AArch64" for an ELF file of another machine. Null for everything else: an ELF file of this machine,
    /// a managed assembly (a PE image with a CLI header, ReadyToRun included), data, or a file too short to tell.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public static string? Describe(string path, ushort machine)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1);
        Span<byte> start = stackalloc byte[20];
        var length = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        start = start[..length];
        if (length >= 20 && start[..4].SequenceEqual(ElfMagic))
        {
            var elfMachine = start[5] == 2 ? BinaryPrimitives.ReadUInt16BigEndian(start[18..]) : BinaryPrimitives.ReadUInt16LittleEndian(start[18..]);
            return elfMachine == machine ? null : $"ELF, {ElfMachines.Name(elfMachine)}";
        }
        if (length >= 8 && DescribeMachO(start) is { } macho)
        {
            return macho;
        }
        if (length >= 2 && start[0] == (byte)'M' && start[1] == (byte)'Z')
        {
            stream.Position = 0;
            return DescribePe(stream);
        }
        return null;
    }

    // A PE image is managed when it has a CLI header: the runtime loads it, whatever native code ReadyToRun added.
    // An MZ file that is no valid PE image is left alone; it is not something any loader opens.
    private static string? DescribePe(Stream stream)
    {
        try
        {
            using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
            if (pe.HasMetadata)
            {
                return null;
            }
            var machine = pe.PEHeaders.CoffHeader.Machine switch
            {
                Machine.Amd64 => "x86-64",
                Machine.Arm64 => "ARM64",
                Machine.I386 => "x86",
                Machine.Arm or Machine.ArmThumb2 or Machine.Thumb => "ARM",
                var other => $"machine 0x{(ushort)other:X4}",
            };
            return $"Windows PE, {machine}";
        }
        catch (BadImageFormatException)
        {
            return null;
        }
    }

    private static string? DescribeMachO(ReadOnlySpan<byte> start)
    {
        var magic = BinaryPrimitives.ReadUInt32BigEndian(start);
        switch (magic)
        {
            case 0xFEEDFACE or 0xFEEDFACF:
                return $"macOS Mach-O, {MachOCpu(BinaryPrimitives.ReadUInt32BigEndian(start[4..]))}";
            case 0xCEFAEDFE or 0xCFFAEDFE:
                return $"macOS Mach-O, {MachOCpu(BinaryPrimitives.ReadUInt32LittleEndian(start[4..]))}";
            case 0xCAFEBABE or 0xCAFEBABF:
                // A Java class file starts with the same magic, then its version: 45 and up where a universal binary
                // has its count of architectures, a handful.
                var count = BinaryPrimitives.ReadUInt32BigEndian(start[4..]);
                return count is > 0 and < 30 ? "macOS Mach-O, universal" : null;
            default:
                return null;
        }
    }

    private static string MachOCpu(uint cpuType) => cpuType switch
    {
        0x01000007 => "x86-64",
        0x0100000C => "arm64",
        7 => "x86",
        12 => "ARM",
        _ => $"CPU type 0x{cpuType:X}",
    };
}
