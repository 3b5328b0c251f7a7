using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>
/// The system's libzstd (<c>libzstd.so.1</c>; Amazon Linux 2023, which Lambda's dotnet10 runtime runs on, ships
/// zstd 1.5.5), bound by its streaming API. Written by hand because no served package binds the system's copy:
/// ZstdSharp.Port is a managed port, whose decode loop runs as unoptimised JIT code for much of a cold start (about
/// half the native rate measured in a fresh process); ZstdNet binds <c>[DllImport("libzstd")]</c> to the copy it ships
/// (libzstd 1.5.7, SONAME <c>libzstd.so.1</c>), which would add that library to every deployment, and a library bound by
/// DllImport can be neither chosen at run time nor unloaded after the load.
/// </summary>
/// <remarks>
/// One instance per load, disposed when the load ends: the library is unloaded again if nothing else holds it, so that a
/// moved library that needs <c>libzstd.so.1</c> later binds to the copy it would find without SnapLoader (the dynamic
/// loader reuses an object already loaded under a SONAME).
/// </remarks>
internal sealed unsafe class SystemZstd : IDisposable
{
    public const string LibraryName = "libzstd.so.1";

    /// <summary>
    /// The oldest version used: 1.4.0 (2019). The functions called exist since 1.0, but nothing older is tested here or
    /// shipped by a current Lambda image (Amazon Linux 2023 has 1.5.5; this project's tests run on Debian's 1.5.4).
    /// </summary>
    public const uint MinimumVersion = 10400;

    private nint _library;

    private SystemZstd(nint library)
    {
        _library = library;
        CreateDStream = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "ZSTD_createDStream");
        FreeDStream = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(library, "ZSTD_freeDStream");
        InitDStream = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(library, "ZSTD_initDStream");
        DecompressStream = (delegate* unmanaged<nint, Buffer*, Buffer*, nuint>)NativeLibrary.GetExport(library, "ZSTD_decompressStream");
        IsError = (delegate* unmanaged<nuint, uint>)NativeLibrary.GetExport(library, "ZSTD_isError");
        GetErrorName = (delegate* unmanaged<nuint, byte*>)NativeLibrary.GetExport(library, "ZSTD_getErrorName");
        Version = ((delegate* unmanaged<uint>)NativeLibrary.GetExport(library, "ZSTD_versionNumber"))();
    }

    /// <summary>ZSTD_inBuffer and ZSTD_outBuffer, which have the same layout: the data, its size, the position reached.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Buffer
    {
        public byte* Data;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>The library's version as a number: major x 10,000 + minor x 100 + release.</summary>
    public uint Version { get; }

    /// <summary>The version as zstd writes it, 1.5.5.</summary>
    public string VersionText => Format(Version);

    internal delegate* unmanaged<nint> CreateDStream { get; }
    internal delegate* unmanaged<nint, nuint> FreeDStream { get; }
    internal delegate* unmanaged<nint, nuint> InitDStream { get; }
    internal delegate* unmanaged<nint, Buffer*, Buffer*, nuint> DecompressStream { get; }
    internal delegate* unmanaged<nuint, uint> IsError { get; }
    internal delegate* unmanaged<nuint, byte*> GetErrorName { get; }

    /// <summary>
    /// Loads the system's libzstd (<paramref name="libraryName"/>), or says why it cannot be used (not installed, too
    /// old, an export missing).
    /// </summary>
    public static SystemZstd? TryLoad(string libraryName, out string whyNot)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
        {
            whyNot = $"{libraryName} is not installed";
            return null;
        }
        SystemZstd zstd;
        try
        {
            zstd = new SystemZstd(library);
        }
        catch (EntryPointNotFoundException e)
        {
            NativeLibrary.Free(library);
            whyNot = $"{libraryName} lacks an export: {e.Message}";
            return null;
        }
        if (zstd.Version < MinimumVersion)
        {
            whyNot = $"{libraryName} is version {zstd.VersionText}, older than {Format(MinimumVersion)}";
            zstd.Dispose();
            return null;
        }
        whyNot = "";
        return zstd;
    }

    /// <summary>A version number as zstd writes it: 10505 is 1.5.5.</summary>
    private static string Format(uint version) => $"{version / 10000}.{version / 100 % 100}.{version % 100}";

    /// <summary>The message of a libzstd error code.</summary>
    public string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)GetErrorName(code)) ?? $"error {code}";

    /// <summary>Releases this load's reference to the library; every decoder made from it must be disposed first.</summary>
    public void Dispose()
    {
        var library = Interlocked.Exchange(ref _library, 0);
        if (library != 0)
        {
            NativeLibrary.Free(library);
        }
    }
}
