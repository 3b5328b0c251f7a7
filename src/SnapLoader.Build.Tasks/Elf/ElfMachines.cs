namespace SnapLoader.Build.Tasks.Elf;

/// <summary>The <c>e_machine</c> values the build checks against the runtime identifier, and their names.</summary>
public static class ElfMachines
{
    /// <summary>EM_386.</summary>
    public const ushort I386 = 3;

    /// <summary>EM_ARM (32-bit ARM).</summary>
    public const ushort Arm = 40;

    /// <summary>EM_X86_64.</summary>
    public const ushort X86_64 = 62;

    /// <summary>EM_AARCH64.</summary>
    public const ushort AArch64 = 183;

    /// <summary>
    /// The machine a library must be built for to run under <paramref name="rid"/>: 62 (x86-64) for linux-x64,
    /// 183 (AArch64) for linux-arm64, null for any other runtime identifier (Lambda runs only these two).
    /// </summary>
    /// <param name="rid">A runtime identifier such as "linux-x64"; compared without regard to case.</param>
    public static ushort? ForRuntimeIdentifier(string rid)
    {
        ArgumentNullException.ThrowIfNull(rid);
        if (string.Equals(rid, "linux-x64", StringComparison.OrdinalIgnoreCase))
        {
            return X86_64;
        }
        if (string.Equals(rid, "linux-arm64", StringComparison.OrdinalIgnoreCase))
        {
            return AArch64;
        }
        return null;
    }

    /// <summary>The name used in messages: "x86-64", "AArch64", "ARM", "i386", or "EM_&lt;n&gt;" for any other value.</summary>
    /// <param name="machine">An <c>e_machine</c> value.</param>
    public static string Name(ushort machine) => machine switch
    {
        X86_64 => "x86-64",
        AArch64 => "AArch64",
        Arm => "ARM",
        I386 => "i386",
        _ => $"EM_{machine}",
    };
}
