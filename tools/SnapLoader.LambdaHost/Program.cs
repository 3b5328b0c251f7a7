using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json;

// Usage: SnapLoader.LambdaHost <Assembly::Namespace.Type::Method> <event.json>
// Prints the init phases (SnapLoader's own lines go to stderr), the response of a first invoke, runs the SnapStart
// hooks as a snapshot and a restore would, invokes again, and ends with one JSON line of results.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: SnapLoader.LambdaHost <Assembly::Namespace.Type::Method> <event.json>");
    return 2;
}
var handler = args[0].Split("::");
if (handler.Length != 3)
{
    Console.Error.WriteLine($"'{args[0]}' is not a handler string (Assembly::Namespace.Type::Method).");
    return 2;
}
var taskRoot = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") ?? "/var/task";
var eventBytes = File.ReadAllBytes(args[1]);

// Like the managed runtime: the function's assembly and its dependencies come from the task root, into the default
// context, resolved through the function's own deps.json.
var functionPath = Path.Combine(taskRoot, handler[0] + ".dll");
var resolver = new AssemblyDependencyResolver(functionPath);
AssemblyLoadContext.Default.Resolving += (context, name) =>
    resolver.ResolveAssemblyToPath(name) is { } path ? context.LoadFromAssemblyPath(path) : null;

var init = Stopwatch.StartNew();
var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(functionPath);
var type = assembly.GetType(handler[1], throwOnError: true)!;
RuntimeHelpers.RunModuleConstructor(type.Module.ModuleHandle);
var instance = Activator.CreateInstance(type);
var method = type.GetMethod(handler[2]) ?? throw new MissingMethodException(handler[1], handler[2]);
var initMs = init.ElapsedMilliseconds;
Console.WriteLine($"init: {initMs} ms");

var first = Invoke();
Console.WriteLine($"response: {first.Response}");

// A SnapStart cycle: before-snapshot hooks, then after-restore hooks, as SnapshotRestore would run them.
var snapLoader = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "SnapLoader.Runtime")?.GetType("SnapLoader.Runtime.SnapLoaderRuntime");
var restore = Stopwatch.StartNew();
if (snapLoader is not null)
{
    await (ValueTask)snapLoader.GetMethod("BeforeSnapshotAsync")!.Invoke(null, null)!;
    await (ValueTask)snapLoader.GetMethod("AfterRestoreAsync")!.Invoke(null, null)!;
}
var restoreMs = restore.ElapsedMilliseconds;
var second = Invoke();
Console.WriteLine($"after restore ({restoreMs} ms): {second.Response}");

Console.WriteLine(JsonSerializer.Serialize(new
{
    initMs,
    response = first.Response,
    invokeMs = first.Milliseconds,
    snapStartHooks = snapLoader is not null,
    restoreMs,
    responseAfterRestore = second.Response,
    memfdDescriptors = Directory.GetFiles("/proc/self/fd").Select(fd => { try { return new FileInfo(fd).LinkTarget ?? ""; } catch (IOException) { return ""; } })
        .Where(t => t.StartsWith("/memfd:", StringComparison.Ordinal) && !t.Contains("doublemapper", StringComparison.Ordinal))
        .Select(t => t[7..].Replace(" (deleted)", "")).Distinct().Order().ToArray(),
    memfdMappings = File.ReadLines("/proc/self/maps").Where(l => l.Contains("/memfd:", StringComparison.Ordinal) && !l.Contains("doublemapper", StringComparison.Ordinal))
        .Select(l => l[(l.IndexOf("/memfd:", StringComparison.Ordinal) + 7)..].Replace(" (deleted)", "")).Distinct().Order().ToArray(),
}));
return 0;

(string Response, long Milliseconds) Invoke()
{
    var clock = Stopwatch.StartNew();
    var result = method.Invoke(instance, [new MemoryStream(eventBytes, writable: false)]);
    if (result is Task task)
    {
        task.GetAwaiter().GetResult();
        result = task.GetType().GetProperty("Result")?.GetValue(task);
    }
    var text = result switch
    {
        Stream stream => new StreamReader(stream, Encoding.UTF8).ReadToEnd(),
        null => "",
        _ => JsonSerializer.Serialize(result),
    };
    return (text, clock.ElapsedMilliseconds);
}
