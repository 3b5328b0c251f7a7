using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>The resource limit <see cref="DescriptorBudget"/> checks a load against.</summary>
internal static partial class LibC
{
    /// <summary>The number of descriptors a process may hold; 7 on x86-64 and arm64 alike (asm-generic/resource.h).</summary>
    public const int RLIMIT_NOFILE = 7;

    /// <summary>"No limit": RLIM_INFINITY, all bits set.</summary>
    public const ulong RLIM_INFINITY = ulong.MaxValue;

    /// <summary>struct rlimit: two rlim_t, which are unsigned longs (64 bits) on both of Lambda's architectures.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        /// <summary>The soft limit: the one the kernel enforces (EMFILE past it).</summary>
        public ulong Current;

        /// <summary>The hard limit: the most the soft limit may be raised to without privilege.</summary>
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, out RLimit limit);
}
