using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>
/// An anonymous file in memory (Linux <c>memfd_create</c> with <c>MFD_CLOEXEC | MFD_ALLOW_SEALING</c>): the place a moved
/// file lives after loading. Its content is reachable by path through <see cref="ProcPath"/>; once <see cref="Seal"/>ed
/// it can no longer change size or content, so what was verified is what every later reader sees.
/// </summary>
/// <remarks>Written with <c>pwrite</c> at explicit offsets, so several writers may fill different parts at once.</remarks>
public sealed class MemoryFile : IDisposable
{
    // Linux limits memfd names to 249 bytes (NAME_MAX minus the "memfd:" prefix).
    private const int MaxNameBytes = 249;
    private const int AllSeals = LibC.F_SEAL_SEAL | LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_WRITE;

    private int _fd;
    private int _sealed;
    private int _borrowed;

    private MemoryFile(int fd, string name, long length)
    {
        _fd = fd;
        Name = name;
        Length = length;
    }

    /// <summary>The file descriptor; -1 after <see cref="Dispose"/>.</summary>
    public int Fd => Volatile.Read(ref _fd);

    /// <summary>The name given to memfd_create (shown as <c>/memfd:NAME</c> in <c>/proc/self/maps</c> and <c>ls -l /proc/self/fd</c>).</summary>
    public string Name { get; }

    /// <summary>The file's length in bytes, fixed at creation.</summary>
    public long Length { get; }

    /// <summary>A path that opens this file: <c>/proc/self/fd/N</c>. Valid in this process only, while the file is not disposed.</summary>
    public string ProcPath => $"/proc/self/fd/{Fd}";

    /// <summary>True once <see cref="Seal"/> succeeded.</summary>
    public bool IsSealed => Volatile.Read(ref _sealed) != 0;

    /// <summary>Creates an empty memory file of <paramref name="length"/> bytes (zeros until written).</summary>
    /// <param name="name">A name for diagnostics, usually the original file name; cut to 249 bytes.</param>
    /// <param name="length">The final length; set now so that writers can fill any part in any order.</param>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.MemfdCreateFailed"/> or <see cref="RuntimeErrorCodes.SealFailed"/> with the errno.</exception>
    public static MemoryFile Create(string name, long length)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var safeName = TrimName(name);
        var fd = LibC.MemfdCreate(safeName, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new SnapLoaderException(RuntimeErrorCodes.MemfdCreateFailed,
                $"memfd_create for '{RuntimeErrors.Printable(name)}' ({length:N0} bytes) failed: {LibC.Describe(errno)}. {MemfdAdvice(errno)}");
        }
        var file = new MemoryFile(fd, safeName, length);
        try
        {
            if (LibC.FTruncate(fd, length) != 0)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.SealFailed,
                    $"ftruncate of memory file '{safeName}' to {length:N0} bytes failed: {LibC.LastError()}. The function may not have enough memory.");
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return file;
    }

    /// <summary>Creates a sealed memory file holding <paramref name="content"/>.</summary>
    /// <param name="name">A name for diagnostics.</param>
    /// <param name="content">The bytes.</param>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.MemfdCreateFailed"/> or <see cref="RuntimeErrorCodes.SealFailed"/> with the errno.</exception>
    public static MemoryFile FromBytes(string name, ReadOnlySpan<byte> content)
    {
        var file = Create(name, content.Length);
        try
        {
            file.Write(0, content);
            file.Seal();
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (pwrite, retried until complete).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range ends past <see cref="Length"/>.</exception>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.SealFailed"/> when pwrite fails (for example EPERM after sealing, ENOMEM).</exception>
    public unsafe void Write(long offset, ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(Fd < 0, this);
        if (offset < 0 || offset + data.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes {offset}..{offset + data.Length} do not fit a {Length}-byte memory file.");
        }
        fixed (byte* start = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var written = LibC.PWrite(_fd, start + done, (nuint)(data.Length - done), offset + done);
                if (written < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LibC.EINTR)
                    {
                        continue;
                    }
                    throw new SnapLoaderException(RuntimeErrorCodes.SealFailed,
                        $"Writing {data.Length - done:N0} bytes at offset {offset + done:N0} of memory file '{Name}' failed: {LibC.LastError()}.");
                }
                done += (int)written;
            }
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/> (pread); used to hash what was written.</summary>
    internal unsafe void Read(long offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(Fd < 0, this);
        if (offset < 0 || offset + destination.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes {offset}..{offset + destination.Length} are not in a {Length}-byte memory file.");
        }
        fixed (byte* start = destination)
        {
            var done = 0;
            while (done < destination.Length)
            {
                var read = LibC.PRead(_fd, start + done, (nuint)(destination.Length - done), offset + done);
                if (read < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
                {
                    continue;
                }
                if (read <= 0)
                {
                    throw new SnapLoaderException(RuntimeErrorCodes.SealFailed,
                        $"Reading back {destination.Length - done:N0} bytes at offset {offset + done:N0} of memory file '{Name}' failed: {(read < 0 ? LibC.LastError() : "end of file")}.");
                }
                done += (int)read;
            }
        }
    }

    /// <summary>
    /// Adds <c>F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL</c> and reads the seals back. Afterwards every
    /// write fails with EPERM. Calling it again does nothing.
    /// </summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.SealFailed"/> when fcntl fails or the seals read back differ.</exception>
    public void Seal()
    {
        ObjectDisposedException.ThrowIf(Fd < 0, this);
        if (IsSealed)
        {
            return;
        }
        if (LibC.Fcntl(_fd, LibC.F_ADD_SEALS, AllSeals) != 0)
        {
            throw new SnapLoaderException(RuntimeErrorCodes.SealFailed,
                $"Sealing memory file '{Name}' (fd {_fd}) failed: {LibC.LastError()}. EBUSY means a writable mapping of it is still open.");
        }
        var seals = LibC.Fcntl(_fd, LibC.F_GET_SEALS, 0);
        if (seals < 0 || (seals & AllSeals) != AllSeals)
        {
            throw new SnapLoaderException(RuntimeErrorCodes.SealFailed,
                $"Memory file '{Name}' (fd {_fd}) reports seals 0x{seals:x} after sealing, expected 0x{AllSeals:x}{(seals < 0 ? ": " + LibC.LastError() : "")}.");
        }
        Volatile.Write(ref _sealed, 1);
    }

    /// <summary>Whether the descriptor is another's, kept open by it (<see cref="UseBorrowedDescriptor"/>).</summary>
    internal bool IsBorrowed => Volatile.Read(ref _borrowed) != 0;

    /// <summary>Closes the descriptor; the memory is freed once nothing else maps or holds the file.</summary>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0 && Volatile.Read(ref _borrowed) == 0)
        {
            LibC.Close(fd);
        }
    }

    /// <summary>
    /// Goes on with a descriptor of the same sealed file that something else keeps open
    /// (the preload shim's), and closes this one's own: a moved file then holds one descriptor, not two, against
    /// Lambda's fixed limit of 1,024. <see cref="Dispose"/> never closes a borrowed descriptor.
    /// </summary>
    internal void UseBorrowedDescriptor(int fd)
    {
        ObjectDisposedException.ThrowIf(Fd < 0, this);
        var own = Interlocked.Exchange(ref _fd, fd);
        Volatile.Write(ref _borrowed, 1);
        LibC.Close(own);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Length:N0} bytes, {ProcPath}{(IsSealed ? ", sealed" : "")})";

    /// <summary>What to do about a failed memfd_create; there is no fallback to disk (see docs/faults.md).</summary>
    private static string MemfdAdvice(int errno) => errno switch
    {
        // A sandbox (a container runtime's seccomp profile, gVisor) or a kernel before 3.17 without the call.
        LibC.ENOSYS or LibC.EPERM =>
            "This system does not allow memfd_create (a seccomp policy or a kernel before 3.17); SnapLoader needs it and has no fallback. " +
            "AWS Lambda allows it; elsewhere, run with a seccomp profile that permits memfd_create. Nothing was loaded.",
        LibC.EMFILE or LibC.ENFILE => "Too many open files: raise the open file limit (ulimit -n) or move fewer files.",
        LibC.ENOMEM => "The function does not have enough memory: raise its memory size.",
        _ => "Check the open file limit (ulimit -n) and the function's memory size.",
    };

    private static string TrimName(string name)
    {
        var clean = name.Replace('/', '_').Replace('\0', '_');
        if (System.Text.Encoding.UTF8.GetByteCount(clean) <= MaxNameBytes)
        {
            return clean;
        }
        // Keep the end: for a path, the file name is what tells files apart.
        while (System.Text.Encoding.UTF8.GetByteCount(clean) > MaxNameBytes)
        {
            clean = clean[1..];
        }
        return clean;
    }
}
