// Runs with libsnaploader_preload.so preloaded. Puts a real library into a sealed memfd, registers it at an
// original path that does not exist on disk, then uses that path the way .NET code does. Prints key=value lines
// for the test to assert; exits 0 unless something threw outside a check.
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SnapLoader.Native.PreloadProbe;

internal static unsafe class Program
{
    // Must equal PreloadedDotnetTests.OriginalPath: a [DllImport] needs a constant.
    private const string OriginalPath = "/tmp/snaploader-native-probe/task/libonnxruntime.so";

    private const uint MFD_CLOEXEC = 0x0001;
    private const uint MFD_ALLOW_SEALING = 0x0002;
    private const int F_ADD_SEALS = 1033;
    private const int F_SEAL_SEAL = 0x0001, F_SEAL_SHRINK = 0x0002, F_SEAL_GROW = 0x0004, F_SEAL_WRITE = 0x0008;

    [DllImport("libc", SetLastError = true)]
    private static extern int memfd_create(string name, uint flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libsnaploader_preload.so")]
    private static extern int snaploader_abi_version();

    [DllImport("libsnaploader_preload.so")]
    private static extern int snaploader_register(string originalPath, int memfd);

    [DllImport("libsnaploader_preload.so")]
    private static extern int snaploader_register_alias(string name, string originalPath);

    // .NET binds "libc" with dlsym on libc's own handle, which finds libc's open, never the shim's.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int LibcOpenByName(string path, int flags);

    // The workaround: bound to the main program's handle (see the resolver in Main), dlsym searches the global scope,
    // where the preloaded shim comes first.
    [DllImport(LibcInGlobalScope, EntryPoint = "open", SetLastError = true)]
    private static extern int LibcOpenInGlobalScope(string path, int flags);

    private const string LibcInGlobalScope = "libc (global scope)";

    // Resolved by .NET's own probing (dlopen of the absolute path): served by the shim from the memfd.
    [DllImport(OriginalPath, EntryPoint = "OrtGetApiBase")]
    private static extern IntPtr OrtGetApiBaseViaDllImport();

    private static int Main(string[] args)
    {
        var realLibrary = args[0];
        // The shim's API lives in the global scope when it is preloaded: no path needed.
        NativeLibrary.SetDllImportResolver(typeof(Program).Assembly, (name, _, _) =>
            name is "libsnaploader_preload.so" or LibcInGlobalScope ? NativeLibrary.GetMainProgramHandle() : IntPtr.Zero);

        Report("preloaded", NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "snaploader_abi_version", out _));
        Report("abi", snaploader_abi_version());
        Report("absent_before", !File.Exists(OriginalPath) && !Directory.Exists(OriginalPath));

        var fd = memfd_create("libonnxruntime.so", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            throw new InvalidOperationException($"memfd_create: errno {Marshal.GetLastPInvokeError()}");
        }
        using (var source = File.OpenRead(realLibrary))
        using (var target = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), FileAccess.Write))
        {
            source.CopyTo(target);
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        {
            throw new InvalidOperationException($"F_ADD_SEALS: errno {Marshal.GetLastPInvokeError()}");
        }
        Report("register", snaploader_register(OriginalPath, fd));
        close(fd); // the shim keeps its own duplicate

        var expected = File.ReadAllBytes(realLibrary);
        Check("exists", () => File.Exists(OriginalPath));
        Check("length", () => new FileInfo(OriginalPath).Length == expected.Length);
        Check("sha256", () => SHA256.HashData(File.ReadAllBytes(OriginalPath)).AsSpan().SequenceEqual(SHA256.HashData(expected)));
        Check("stream_read", () =>
        {
            using var s = new FileStream(OriginalPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            var buffer = new byte[4];
            s.ReadExactly(buffer);
            return buffer.AsSpan().SequenceEqual(expected.AsSpan(0, 4)) && s.Length == expected.Length;
        });
        try
        {
            using var w = File.OpenWrite(OriginalPath);
            Report("open_write", "no exception");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Report("open_write", e.GetType().Name + ": " + e.Message);
        }
        Check("dllimport", () => VersionOf(OrtGetApiBaseViaDllImport()).StartsWith("1.31.", StringComparison.Ordinal));
        Check("native_library_load", () =>
        {
            var handle = NativeLibrary.Load(OriginalPath);
            var export = NativeLibrary.GetExport(handle, "OrtGetApiBase");
            var apiBase = ((delegate* unmanaged<IntPtr>)export)();
            Report("version", VersionOf(apiBase));
            return VersionOf(apiBase).StartsWith("1.31.", StringComparison.Ordinal);
        });
        // No basename fallback: the same file name in another folder is not the registered file.
        Check("other_folder_absent", () => !File.Exists("/tmp/snaploader-native-probe/other/libonnxruntime.so")
            && !NativeLibrary.TryLoad("/tmp/snaploader-native-probe/other/libonnxruntime.so", out _));
        // A bare name needs an alias; with one, .NET's probing (app folder, then dlopen of the bare name) finds it.
        Check("bare_name_without_alias_fails", () => !NativeLibrary.TryLoad("libonnxruntime.so", out _));
        Report("register_alias", snaploader_register_alias("libonnxruntime.so", OriginalPath));
        Check("bare_name_with_alias", () =>
            NativeLibrary.Load("libonnxruntime.so") == NativeLibrary.Load(OriginalPath));
        Check("libc_by_name_bypasses", () => LibcOpenByName(OriginalPath, 0) == -1 && Marshal.GetLastPInvokeError() == 2);
        Check("libc_in_global_scope", () =>
        {
            var opened = LibcOpenInGlobalScope(OriginalPath, 0);
            return opened >= 0 && close(opened) == 0;
        });
        Report("absent_after", OnDiskAbsent());
        return 0;
    }

    // The original file is still not on disk: a directory listing (getdents, not interposed) does not show it.
    private static bool OnDiskAbsent()
    {
        var dir = Path.GetDirectoryName(OriginalPath)!;
        return !Directory.Exists(dir) || !Directory.EnumerateFiles(dir).Contains(OriginalPath);
    }

    // OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
    private static string VersionOf(IntPtr apiBase)
    {
        var getVersionString = (delegate* unmanaged<IntPtr>)Marshal.ReadIntPtr(apiBase, IntPtr.Size);
        return Marshal.PtrToStringUTF8(getVersionString())!;
    }

    private static void Check(string name, Func<bool> check)
    {
        try
        {
            Report(name, check());
        }
        catch (Exception e)
        {
            Report(name, "threw " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
        }
    }

    private static void Report(string name, object value) =>
        Console.WriteLine($"{name}={(value is bool b ? (b ? "true" : "false") : value)}");
}
