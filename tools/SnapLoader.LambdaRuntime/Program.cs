using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Amazon.Lambda.RuntimeSupport;

// The entry point of the managed runtime, as the executable build of Amazon.Lambda.RuntimeSupport has it in the
// dotnet10 image's /var/runtime: the NuGet package ships the library build, which has no Main, so this assembly is
// that Main and nothing more. The process runs with the function's deps.json, so only the function's own assemblies
// are on the host's list; like the real entry point, this one adds SnapshotRestore.Registry from the runtime folder,
// and Amazon.Lambda.RuntimeSupport too, which in the image is the entry assembly itself. Amazon.Lambda.Core is not
// added: it must come from the function, as on Lambda.
var runtimeDirectory = Path.GetDirectoryName(typeof(LambdaRuntimeEntry).Assembly.Location)!;
AssemblyLoadContext.Default.Resolving += (context, name) =>
{
    if (name.Name is not ("Amazon.Lambda.RuntimeSupport" or "SnapshotRestore.Registry"))
    {
        return null;
    }
    var path = Path.Combine(runtimeDirectory, name.Name + ".dll");
    return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
};
if (args.Length == 0)
{
    throw new ArgumentException("The function handler was not provided via command line arguments.", nameof(args));
}
await LambdaRuntimeEntry.RunAsync(args[0]);

internal static class LambdaRuntimeEntry
{
    // Not inlined: the runtime's types must be resolved after the handler above is in place.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task RunAsync(string handler) => new RuntimeSupportInitializer(handler).RunLambdaBootstrap();
}
