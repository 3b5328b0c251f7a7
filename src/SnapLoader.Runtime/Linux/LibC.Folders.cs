using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>
/// The *at calls that let <see cref="SymlinkFarm"/> work relative to a folder it opened and checked, so that nothing
/// another process does to the path afterwards (swapping in a symbolic link) changes where the links go.
/// </summary>
internal static partial class LibC
{
    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;

    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;

    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_UID = 0x8;

    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;

    // arm64 numbers these two flags differently from x86-64 (arch/arm64/include/uapi/asm/fcntl.h); Lambda runs both.
    public static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    public static int O_NOFOLLOW => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int directoryFd, string path, uint mode);

    // openat is variadic for its mode; without O_CREAT the mode is never read, so it is left out.
    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int directoryFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SymlinkAt(string target, int directoryFd, string linkPath);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int directoryFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    // struct statx has the same layout on every architecture, unlike struct stat; glibc has had statx since 2.28.
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatX(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The owner and mode of the open file <paramref name="fd"/>; false with errno set when statx fails.</summary>
    public static unsafe bool TryGetOwnerAndMode(int fd, out uint uid, out uint mode)
    {
        var buffer = stackalloc byte[256];
        uid = 0;
        mode = 0;
        if (StatX(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_UID, buffer) != 0)
        {
            return false;
        }
        uid = *(uint*)(buffer + 20);   // stx_uid
        mode = *(ushort*)(buffer + 28); // stx_mode
        return true;
    }
}
