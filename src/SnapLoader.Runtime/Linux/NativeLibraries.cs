using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace SnapLoader.Runtime;

/// <summary>
/// The moved libraries: declared to the preload shim, so that each loads when something opens it by its path, its
/// moved needs first, and served to P/Invoke when .NET's own probing found nothing. A library loads only when used,
/// as without SnapLoader: one that cannot load (a system library Lambda lacks) fails only the code that uses it, and
/// of several libraries with one SONAME (a package's CPU variants) only the one its package opens is ever mapped.
/// </summary>
/// <remarks>
/// The dynamic loader resolves DT_NEEDED by itself with internal opens that no preload shim sees, but it reuses an
/// object already loaded under the same SONAME: loading the needs first (resolved at build time as the loader would
/// resolve them in the original layout) is what makes the right ones used.
/// </remarks>
internal static class NativeLibraries
{
    private static readonly object s_gate = new();
    private static readonly List<MovedLibrary> s_libraries = [];
    private static readonly ConcurrentDictionary<MovedLibrary, nint> s_handles = new();
    private static readonly ConcurrentDictionary<string, bool> s_ambiguousNamesWarned = new(StringComparer.Ordinal);
    private static int s_resolverInstalled;

    /// <summary>
    /// Declares the libraries of one load: to the shim when it is preloaded (a dlopen of a library's original path then
    /// loads its needs first, and the library from its link), and to the P/Invoke resolver. Nothing loads yet.
    /// </summary>
    public static IReadOnlyList<MovedLibrary> Declare(IEnumerable<MovedLibrary> libraries)
    {
        var declared = libraries.ToList();
        var byPath = declared.ToDictionary(l => l.File.RelativePath, StringComparer.Ordinal);
        foreach (var library in declared)
        {
            library.Needs.AddRange(library.File.Needs.Select(n => byPath.GetValueOrDefault(n)).OfType<MovedLibrary>());
        }
        if (PreloadShim.IsPreloaded)
        {
            foreach (var library in declared)
            {
                PreloadShim.RegisterLibrary(library.OriginalPath, library.LinkPath, library.Needs.Select(n => n.OriginalPath).ToList());
            }
        }
        lock (s_gate)
        {
            s_libraries.AddRange(declared);
        }
        InstallResolver();
        return declared;
    }

    /// <summary>Forgets the libraries of a load that failed, so the resolver no longer answers with them.</summary>
    public static void Forget(IEnumerable<MovedLibrary> libraries)
    {
        var set = libraries.ToHashSet();
        lock (s_gate)
        {
            s_libraries.RemoveAll(set.Contains);
        }
    }

    /// <summary>
    /// Loads <paramref name="library"/>, its needs first: by its original path when the shim is preloaded (the shim
    /// loads the needs and maps the library from its link), else from the folder of links, needs first, here.
    /// </summary>
    /// <exception cref="SnapLoaderException"><see cref="RuntimeErrorCodes.LibraryLoadFailed"/>: the dynamic loader refused it; the message carries its reason, usually the library it needs and did not find.</exception>
    public static nint Load(MovedLibrary library) => Load(library, []);

    private static nint Load(MovedLibrary library, HashSet<MovedLibrary> loading)
    {
        if (s_handles.TryGetValue(library, out var known))
        {
            return known;
        }
        if (!PreloadShim.IsPreloaded && loading.Add(library))
        {
            foreach (var needed in library.Needs.Where(n => !loading.Contains(n)))
            {
                Load(needed, loading);
            }
        }
        var path = PreloadShim.IsPreloaded ? library.OriginalPath : library.LinkPath;
        try
        {
            return s_handles.GetOrAdd(library, NativeLibrary.Load(path));
        }
        catch (DllNotFoundException e)
        {
            // The message carries dlerror(): usually the DT_NEEDED library that is missing.
            throw new SnapLoaderException(RuntimeErrorCodes.LibraryLoadFailed,
                $"The dynamic loader refused '{library.File.RelativePath}', which SnapLoader moved (loaded from {path}): {e.Message} " +
                "Check that the libraries it needs are in the deployment, in the archive, or on the function's LD_LIBRARY_PATH; " +
                "the same library fails the same way without SnapLoader.", e);
        }
    }

    /// <summary>The libraries that answer to a P/Invoke name ("onnxruntime", "libonnxruntime.so", a SONAME, a relative path).</summary>
    public static IReadOnlyList<MovedLibrary> Candidates(string libraryName)
    {
        var names = NameForms(libraryName).ToHashSet(StringComparer.Ordinal);
        lock (s_gate)
        {
            return s_libraries.Where(l => l.Names().Any(names.Contains)).ToList();
        }
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

    // One library for the name, or none: SnapLoader never picks among variants, which their package's own loader
    // tells apart (by the CPU's features, say) and opens by path.
    private static nint Resolve(Assembly assembly, string libraryName)
    {
        var candidates = Candidates(libraryName);
        if (candidates.Count == 1)
        {
            try
            {
                return Load(candidates[0]);
            }
            catch (SnapLoaderException e)
            {
                // What the code would get without SnapLoader, with SnapLoader's code and the loader's reason.
                throw new DllNotFoundException(e.Message, e);
            }
        }
        if (candidates.Count > 1 && s_ambiguousNamesWarned.TryAdd(libraryName, true))
        {
            LambdaLog.Warn($"P/Invoke asked for '{libraryName}', which names {candidates.Count} moved libraries ({string.Join(", ", candidates)}); " +
                "SnapLoader does not choose among them. Load the one you mean by its path (NativeLibrary.Load), as the package's own loader does.");
        }
        return 0;
    }

    // What the runtime itself would try for a DllImport name: as given, with lib prefix and .so suffix; a name with a
    // folder in it names that path only (relative to the task root), never a file of that name elsewhere.
    private static IEnumerable<string> NameForms(string name)
    {
        yield return name;
        if (name.Contains('/', StringComparison.Ordinal))
        {
            yield break;
        }
        yield return name + ".so";
        yield return "lib" + name + ".so";
        yield return "lib" + name;
    }
}
