using System.Runtime.InteropServices;

namespace SnapLoader.Runtime;

/// <summary>
/// The preload shim (libsnaploader_preload.so), reached through the functions it exports. It can only be put in
/// place at process start (LD_PRELOAD, set by the exec wrapper); environment changes made by .NET later never
/// reach the native getenv(), so the runtime talks to it through these calls and nothing else.
/// </summary>
internal static unsafe class PreloadShim
{
    /// <summary>The ABI version this runtime speaks (SNAPLOADER_ABI_VERSION in native/include/snaploader_preload.h).</summary>
    public const int AbiVersion = 3;

    /// <summary>The variable the exec wrapper sets; named in the warning when the shim is missing.</summary>
    public const string ExecWrapperVariable = "AWS_LAMBDA_EXEC_WRAPPER";

    private static readonly Lazy<Exports?> s_exports = new(FindExports);

    /// <summary>Whether the shim is preloaded into this process and speaks this runtime's ABI.</summary>
    public static bool IsPreloaded => s_exports.Value is not null;

    /// <summary>Registers <paramref name="originalPath"/> for the sealed memory file <paramref name="memoryFile"/>.</summary>
    public static void Register(string originalPath, MemoryFile memoryFile)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var result = WithUtf8(originalPath, path => exports.Register(path, memoryFile.Fd));
        ThrowOnError(result, $"register '{originalPath}' with the preload shim");
    }

    /// <summary>Makes a slash-less dlopen of <paramref name="name"/> (a SONAME or file name) open <paramref name="originalPath"/>.</summary>
    public static void RegisterAlias(string name, string originalPath)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        var pathBytes = System.Text.Encoding.UTF8.GetBytes(originalPath + "\0");
        fixed (byte* n = nameBytes)
        fixed (byte* p = pathBytes)
        {
            ThrowOnError(exports.RegisterAlias(n, p), $"register the name '{name}' for '{originalPath}' with the preload shim");
        }
    }

    /// <summary>
    /// Declares the registered file at <paramref name="originalPath"/> a library: a dlopen of that path loads the
    /// libraries of <paramref name="neededPaths"/> (original paths, registered before) first, then the library from
    /// <paramref name="loadPath"/>, its link in the folder of links, so that its $ORIGIN is a folder laid out like the original.
    /// </summary>
    public static void RegisterLibrary(string originalPath, string loadPath, IReadOnlyList<string> neededPaths)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var strings = new[] { originalPath, loadPath }.Concat(neededPaths).Select(p => Marshal.StringToCoTaskMemUTF8(p)).ToArray();
        try
        {
            var needed = strings.Skip(2).ToArray();
            fixed (nint* neededPointers = needed)
            {
                ThrowOnError(exports.RegisterLibrary((byte*)strings[0], (byte*)strings[1], (byte**)neededPointers, needed.Length),
                    $"declare the library '{originalPath}' (with {needed.Length} libraries it needs) to the preload shim");
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    /// <summary>The shim's own descriptor of the file registered at <paramref name="originalPath"/>; never to be closed.</summary>
    public static int Descriptor(string originalPath)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var result = WithUtf8(originalPath, path => exports.Descriptor(path));
        ThrowOnError(result, $"get the preload shim's descriptor of '{originalPath}'");
        return result;
    }

    /// <summary>Registers <paramref name="originalPath"/> for the open directory <paramref name="directoryFd"/> (the shim keeps a duplicate).</summary>
    public static void RegisterDirectory(string originalPath, int directoryFd)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var result = WithUtf8(originalPath, path => exports.RegisterDirectory(path, directoryFd));
        ThrowOnError(result, $"register the folder '{originalPath}' with the preload shim");
    }

    /// <summary>
    /// Takes back the registration of <paramref name="originalPath"/> (the shim closes its duplicate of the memory
    /// file); for a load that fails after registering. Returns whether the path was registered.
    /// </summary>
    public static bool Unregister(string originalPath)
    {
        var exports = s_exports.Value ?? throw new InvalidOperationException("The preload shim is not loaded.");
        var result = WithUtf8(originalPath, path => exports.Unregister(path));
        if (result == -2)
        {
            return false; // ENOENT: never registered
        }
        ThrowOnError(result, $"unregister '{originalPath}' from the preload shim");
        return true;
    }

    /// <summary>
    /// Takes back every path of <paramref name="originalPaths"/>, for the cleanup of a failed load: a path the shim
    /// cannot take back (it could not even open /dev/null) is reported and skipped, so the cleanup never throws over
    /// the error that caused it.
    /// </summary>
    public static void UnregisterAll(IEnumerable<string> originalPaths)
    {
        foreach (var path in originalPaths)
        {
            try
            {
                Unregister(path);
            }
            catch (SnapLoaderException e)
            {
                LambdaLog.Warn($"after a failed load, {e.Message}");
            }
        }
    }

    /// <summary>Closes registration; later attempts fail. Called once everything of the manifest is registered.</summary>
    public static void Freeze()
    {
        if (s_exports.Value is { } exports)
        {
            ThrowOnError(exports.Freeze(), "freeze the preload shim's table");
        }
    }

    private static int WithUtf8(string text, Func<nint, int> call)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text + "\0");
        fixed (byte* p = bytes)
        {
            return call((nint)p);
        }
    }

    private static void ThrowOnError(int result, string what)
    {
        if (result < 0)
        {
            throw new SnapLoaderException(RuntimeErrorCodes.ShimRegistrationFailed,
                $"Could not {what}: {Marshal.GetPInvokeErrorMessage(-result)} (errno {-result}).");
        }
    }

    // Looked up in the global scope rather than by library name: the shim counts only if LD_PRELOAD put it there,
    // and a copy that .NET would load on demand could not see the process's earlier calls anyway.
    private static Exports? FindExports()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var global = NativeLibrary.GetMainProgramHandle();
        if (!NativeLibrary.TryGetExport(global, "snaploader_abi_version", out var version))
        {
            return null;
        }
        // The version first: a shim of another version may lack exports of this one, and says so by its number.
        var abi = ((delegate* unmanaged<int>)version)();
        if (abi != AbiVersion)
        {
            throw new SnapLoaderException(RuntimeErrorCodes.ShimRegistrationFailed,
                $"The preloaded libsnaploader_preload.so speaks ABI {abi}, this SnapLoader.Runtime speaks {AbiVersion}: publish again so the shim and the runtime come from the same package version.");
        }
        if (!NativeLibrary.TryGetExport(global, "snaploader_register", out var register)
            || !NativeLibrary.TryGetExport(global, "snaploader_register_alias", out var alias)
            || !NativeLibrary.TryGetExport(global, "snaploader_register_library", out var library)
            || !NativeLibrary.TryGetExport(global, "snaploader_register_directory", out var directory)
            || !NativeLibrary.TryGetExport(global, "snaploader_descriptor", out var descriptor)
            || !NativeLibrary.TryGetExport(global, "snaploader_unregister", out var unregister)
            || !NativeLibrary.TryGetExport(global, "snaploader_freeze", out var freeze))
        {
            return null;
        }
        return new Exports((delegate* unmanaged<byte*, int, int>)register, (delegate* unmanaged<byte*, byte*, int>)alias,
            (delegate* unmanaged<byte*, byte*, byte**, int, int>)library, (delegate* unmanaged<byte*, int, int>)directory,
            (delegate* unmanaged<byte*, int>)descriptor, (delegate* unmanaged<byte*, int>)unregister, (delegate* unmanaged<int>)freeze);
    }

    private sealed class Exports(
        delegate* unmanaged<byte*, int, int> register, delegate* unmanaged<byte*, byte*, int> registerAlias,
        delegate* unmanaged<byte*, byte*, byte**, int, int> registerLibrary, delegate* unmanaged<byte*, int, int> registerDirectory,
        delegate* unmanaged<byte*, int> descriptor, delegate* unmanaged<byte*, int> unregister, delegate* unmanaged<int> freeze)
    {
        public int Register(nint path, int fd) => register((byte*)path, fd);
        public int RegisterAlias(byte* name, byte* path) => registerAlias(name, path);
        public int RegisterLibrary(byte* path, byte* loadPath, byte** needed, int count) => registerLibrary(path, loadPath, needed, count);
        public int RegisterDirectory(nint path, int fd) => registerDirectory((byte*)path, fd);
        public int Descriptor(nint path) => descriptor((byte*)path);
        public int Unregister(nint path) => unregister((byte*)path);
        public int Freeze() => freeze();
    }
}
