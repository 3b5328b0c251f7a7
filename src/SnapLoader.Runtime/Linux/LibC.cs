using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>The few libc calls memory files need. glibc on Lambda (Amazon Linux 2023) has all of them since 2.27.</summary>
internal static partial class LibC
{
    public const uint MFD_CLOEXEC = 0x0001;
    public const uint MFD_ALLOW_SEALING = 0x0002;

    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;

    public const int F_SEAL_SEAL = 0x0001;
    public const int F_SEAL_SHRINK = 0x0002;
    public const int F_SEAL_GROW = 0x0004;
    public const int F_SEAL_WRITE = 0x0008;

    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int ENOMEM = 12;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENOSYS = 38;

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    // fcntl is variadic; on x86-64 and arm64 Linux an int passed in the first variadic slot travels exactly like a fixed one.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static unsafe partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>The errno of the last call, with its name where it is a common one.</summary>
    public static string LastError() => Describe(Marshal.GetLastPInvokeError());

    /// <summary><paramref name="errno"/> as a message shows it: its number and the system's text for it.</summary>
    public static string Describe(int errno) => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";
}
