using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using SnapLoader.Runtime;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Usage: StartProbe <manifest.json>
// Starts SnapLoader the way the generated bootstrap does, then checks what a function would see and prints one
// JSON object of findings (or the SnapLoaderException's code and message) for the test to assert on.
var input = JsonDocument.Parse(File.ReadAllText(args[0])).RootElement;
var files = input.GetProperty("files").EnumerateArray().Select(f => new MovedFile(
    f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(), f.GetProperty("sha256").GetString()!,
    Enum.Parse<MovedFileKind>(f.GetProperty("kind").GetString()!), f.GetProperty("soname").GetString(),
    loadAtInit: f.TryGetProperty("loadAtInit", out var atInit) && atInit.GetBoolean(),
    entry: f.TryGetProperty("entry", out var entry) && entry.ValueKind == JsonValueKind.String ? entry.GetString() : null)).ToList();
var archive = input.GetProperty("archive");
var manifest = new SnapLoaderManifest(
    new ArchiveLocation(archive.GetProperty("fileName").GetString()!, archive.GetProperty("sha256").GetString()!, archive.GetProperty("length").GetInt64()),
    "linux-x64", files);

var findings = new Dictionary<string, object?>();
var devNullBefore = CountDevNull();
try
{
    SnapLoaderRuntime.Start(manifest);
}
catch (SnapLoaderException e)
{
    findings["errorCode"] = e.Code;
    findings["errorMessage"] = e.Message;
    findings["memfds"] = CountMemfds(files);
    // What a rollback could leave behind besides memory files: the shim's /dev/null, or a number put on it.
    findings["devNullAdded"] = CountDevNull() - devNullBefore;
    findings["stillRegistered"] = files.Count(f => File.Exists(Path.Combine(SnapLoaderRuntime.BasePath, f.RelativePath)));
    Console.WriteLine(JsonSerializer.Serialize(findings));
    return 3;
}

var taskRoot = SnapLoaderRuntime.BasePath;
findings["preloaded"] = SnapLoaderRuntime.IsPreloaded;
if (input.TryGetProperty("startOnly", out var startOnly) && startOnly.GetBoolean())
{
    // Only the start, as a function's init would have it: what it costs in memory and descriptors, and that it worked.
    findings["memfdsOfFiles"] = DistinctMemfds(files);
    findings["openDescriptors"] = Directory.GetFileSystemEntries("/proc/self/fd").Length - 1;
    findings["vmHwmKiB"] = long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    findings["readable"] = files.All(f => File.Exists(Path.Combine(taskRoot, f.RelativePath)));
    Console.WriteLine(JsonSerializer.Serialize(findings));
    return 0;
}
if (files.Any(f => f.RelativePath == "libbroken.so"))
{
    // A library that cannot load fails the code that opens it, by its path or by P/Invoke, and nothing else.
    findings["brokenByPath"] = LoadFailure(() => NativeLibrary.Load(Path.Combine(taskRoot, "libbroken.so")));
    findings["brokenByName"] = LoadFailure(() => NativeLibrary.Load("broken", typeof(MovedFile).Assembly, null));
}
findings["hashes"] = files.ToDictionary(f => f.RelativePath, f => Sha256(Path.Combine(taskRoot, f.RelativePath)));
findings["ortApiBase"] = OrtGetApiBase() != 0;
findings["inference"] = RunResNet(Path.Combine(taskRoot, "models/ResNet18.onnx"));
findings["mapsMemfd"] = File.ReadAllText("/proc/self/maps").Contains("/memfd:libonnxruntime.so", StringComparison.Ordinal);
findings["linkPath"] = SnapLoaderRuntime.GetPath(files[0].RelativePath);
findings["descriptors"] = SnapLoaderRuntime.GetFileDescriptors().Count;
findings["fds"] = SnapLoaderRuntime.GetFileDescriptors();
findings["memfdsOfFiles"] = DistinctMemfds(files);

// A restore brings the process back without the farm in /tmp: the hook must recreate it.
var links = Environment.GetEnvironmentVariable("SNAPLOADER_TARGET_DIR")!;
SnapLoaderRuntime.BeforeSnapshotAsync().AsTask().GetAwaiter().GetResult();
Directory.Delete(links, recursive: true);
SnapLoaderRuntime.AfterRestoreAsync().AsTask().GetAwaiter().GetResult();
findings["linksAfterRestore"] = files.All(f => File.Exists(Path.Combine(links, f.RelativePath)));

// The lambda-snaploader API: a second CreateSymlinks whose new path clashes with a path Start registered must take
// back only what it added, never what an earlier call registered.
SnapLoaderRuntime.CreateMemoryFile("extra/a.bin", [1, 2, 3]);
SnapLoaderRuntime.CreateSymlinks(links + "-manual-1");
var earlier = Path.Combine(taskRoot, "extra/a.bin");
findings["manualRegistered"] = File.Exists(earlier);
SnapLoaderRuntime.CreateMemoryFile(files[0].RelativePath, [9]);
try
{
    SnapLoaderRuntime.CreateSymlinks(links + "-manual-2");
    findings["manualClash"] = "none";
}
catch (SnapLoaderException e)
{
    findings["manualClash"] = e.Code;
}
findings["manualEarlierKept"] = File.Exists(earlier) && File.ReadAllBytes(earlier).SequenceEqual(new byte[] { 1, 2, 3 });
Console.WriteLine(JsonSerializer.Serialize(findings));
return 0;

// ONNX Runtime's managed API, with its own DllImport resolver, on the model it opens by its original path.
static int RunResNet(string modelPath)
{
    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(modelPath);
    var (name, metadata) = session.InputMetadata.First();
    var shape = metadata.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
    var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(shape);
    using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(name, input)]);
    return results.First().AsTensor<float>().Length is var length ? (int)length : 0;
}

static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

// Only the manifest's memory files: the .NET runtime keeps memfds of its own (the W^X "doublemapper").
static int CountMemfds(IEnumerable<MovedFile> files) => Directory.GetFiles("/proc/self/fd").Count(fd =>
{
    try
    {
        var target = new FileInfo(fd).LinkTarget ?? "";
        return target.StartsWith("/memfd:", StringComparison.Ordinal) && files.Any(f => target.Contains(Path.GetFileName(f.RelativePath), StringComparison.Ordinal));
    }
    catch (IOException)
    {
        return false;
    }
});

// The manifest's memory files by name, however many descriptors (the runtime's, the shim's duplicates) hold each.
static int DistinctMemfds(IEnumerable<MovedFile> files) => Directory.GetFiles("/proc/self/fd")
    .Select(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return "";
        }
    })
    .Where(target => target.StartsWith("/memfd:", StringComparison.Ordinal) && files.Any(f => target.Contains(Path.GetFileName(f.RelativePath), StringComparison.Ordinal)))
    .Distinct(StringComparer.Ordinal)
    .Count();

[DllImport("onnxruntime", EntryPoint = "OrtGetApiBase")]
static extern nint OrtGetApiBase();

static string LoadFailure(Func<nint> load)
{
    try
    {
        load();
        return "loaded";
    }
    catch (DllNotFoundException e)
    {
        return e.Message;
    }
}

// Descriptors of this process open on /dev/null.
static int CountDevNull() => Directory.GetFileSystemEntries("/proc/self/fd").Count(fd =>
{
    try
    {
        return new FileInfo(fd).LinkTarget == "/dev/null";
    }
    catch (IOException)
    {
        return false; // the listing's own descriptor, closed by now
    }
});
