using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace SnapLoader.Runtime;

/// <summary>
/// Loads the moved libraries in the manifest's order and serves them to P/Invoke. The dynamic loader resolves
/// DT_NEEDED by itself with internal opens that no preload shim sees, but it reuses an object already loaded under
/// the same SONAME: loading dependencies first is what makes that work.
/// </summary>
internal static class NativeLibraries
{
    private static readonly ConcurrentDictionary<string, nint> s_handles = new(StringComparer.Ordinal);
    private static int s_resolverInstalled;

    /// <summary>Loads each library from its link in the farm, in order; returns how many were loaded.</summary>
    public static int LoadInOrder(IEnumerable<(MovedFile File, string LinkPath)> libraries)
    {
        var count = 0;
        foreach (var (file, link) in libraries)
        {
            nint handle;
            try
            {
                handle = NativeLibrary.Load(link);
            }
            catch (DllNotFoundException e)
            {
                // The message carries dlerror(): usually the DT_NEEDED library that is missing.
                throw new SnapLoaderException(RuntimeErrorCodes.LibraryLoadFailed,
                    $"The dynamic loader refused '{file.RelativePath}' (from {link}): {e.Message} Check that the libraries it needs are in the deployment, in the archive, or on the function's LD_LIBRARY_PATH.", e);
            }
            foreach (var name in NamesOf(file))
            {
                s_handles.TryAdd(name, handle);
            }
            count++;
        }
        InstallResolver();
        return count;
    }

    /// <summary>The handle of a moved library by the name P/Invoke uses ("onnxruntime", "libonnxruntime.so", a SONAME).</summary>
    public static bool TryGet(string libraryName, out nint handle)
    {
        foreach (var candidate in Candidates(libraryName))
        {
            if (s_handles.TryGetValue(candidate, out handle))
            {
                return true;
            }
        }
        handle = 0;
        return false;
    }

    // The event fires only after the runtime's own probing failed, and it coexists with the per-assembly resolvers
    // that libraries such as ONNX Runtime install with NativeLibrary.SetDllImportResolver (only one is allowed each).
    private static void InstallResolver()
    {
        if (Interlocked.Exchange(ref s_resolverInstalled, 1) == 0)
        {
            // The function's assemblies live where this one does: the default context on Lambda, a plugin-style
            // context when a host loads the function itself.
            var context = AssemblyLoadContext.GetLoadContext(typeof(NativeLibraries).Assembly) ?? AssemblyLoadContext.Default;
            context.ResolvingUnmanagedDll += Resolve;
            if (context != AssemblyLoadContext.Default)
            {
                AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
            }
        }
    }

    private static nint Resolve(Assembly assembly, string libraryName) => TryGet(libraryName, out var handle) ? handle : 0;

    private static IEnumerable<string> NamesOf(MovedFile file)
    {
        var fileName = Path.GetFileName(file.RelativePath);
        yield return file.RelativePath;
        yield return fileName;
        if (file.Soname is { } soname)
        {
            yield return soname;
        }
    }

    // What the runtime itself would try for a DllImport name: as given, with lib prefix and .so suffix.
    private static IEnumerable<string> Candidates(string name)
    {
        var fileName = Path.GetFileName(name);
        yield return name;
        yield return fileName;
        yield return fileName + ".so";
        yield return "lib" + fileName + ".so";
        yield return "lib" + fileName;
    }
}
