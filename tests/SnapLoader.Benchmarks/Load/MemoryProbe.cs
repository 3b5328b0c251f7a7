using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace SnapLoader.Benchmarks.Load;

/// <summary>
/// The peak memory of this process while a method runs, sampled on its own thread every <see cref="Interval"/>.
/// </summary>
/// <remarks>
/// "Anonymous + shmem" here is RssAnon from /proc/self/status plus the pages allocated to the memfds this process
/// holds open (st_blocks of each /proc/self/fd entry that links to /memfd:...). RssShmem and smaps_rollup cannot give
/// the second part: they count only shmem pages mapped into the process, and the methods fill memfds with pwrite, so
/// their pages are charged to the process's memory cgroup but appear in no RSS figure until something maps them
/// (dlopen maps a library's memfd, and then RssShmem would count those pages a second time). Peak RSS is the kernel's
/// own VmHWM, which therefore leaves unmapped memfds out.
/// </remarks>
internal sealed class MemoryProbe : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(2);

    private const int AtEmptyPath = 0x1000;
    private const uint StatxBlocks = 0x400;
    private const int StatxBlocksOffset = 48;

    private readonly Thread _thread;
    private readonly byte[] _statx = new byte[256];
    private volatile bool _stopping;
    private long _peakAnonShmem;
    private int _samples;

    private MemoryProbe()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "memory probe", Priority = ThreadPriority.AboveNormal };
    }

    /// <summary>Highest RssAnon + memfd bytes seen.</summary>
    public long PeakAnonShmem => Interlocked.Read(ref _peakAnonShmem);

    public int Samples => _samples;

    public static MemoryProbe Start()
    {
        var probe = new MemoryProbe();
        probe.Sample();
        probe._thread.Start();
        return probe;
    }

    /// <summary>Takes a last sample and stops the thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _thread.Join();
        Sample();
    }

    /// <summary>The kernel's peak resident set (VmHWM) of this process, in bytes.</summary>
    public static long PeakRss() => StatusField("VmHWM:");

    public void Dispose()
    {
        if (!_stopping)
        {
            Stop();
        }
    }

    private void Loop()
    {
        while (!_stopping)
        {
            Sample();
            Thread.Sleep(Interval);
        }
    }

    private void Sample()
    {
        var current = StatusField("RssAnon:") + MemfdBytes();
        long peak;
        while (current > (peak = Interlocked.Read(ref _peakAnonShmem)) && Interlocked.CompareExchange(ref _peakAnonShmem, current, peak) != peak)
        {
        }
        _samples++;
    }

    private long MemfdBytes()
    {
        long total = 0;
        foreach (var link in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(link).LinkTarget;
            }
            catch (IOException)
            {
                continue; // Closed between the listing and the readlink.
            }
            if (target is null || !target.StartsWith("/memfd:", StringComparison.Ordinal) || !int.TryParse(Path.GetFileName(link), out var fd))
            {
                continue;
            }
            // statx's layout is the same on every architecture, unlike struct stat's; a descriptor closed meanwhile fails and counts nothing.
            if (Statx(fd, "", AtEmptyPath, StatxBlocks, _statx) == 0)
            {
                total += (long)BinaryPrimitives.ReadUInt64LittleEndian(_statx.AsSpan(StatxBlocksOffset)) * 512;
            }
        }
        return total;
    }

    // A field of /proc/self/status in kB, returned in bytes.
    private static long StatusField(string name)
    {
        foreach (var line in File.ReadLines("/proc/self/status", Encoding.ASCII))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(name.Length).Trim().TrimEnd("kB").Trim(), provider: System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"/proc/self/status has no {name} line.");
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
