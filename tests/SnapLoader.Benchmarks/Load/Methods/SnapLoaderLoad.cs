using SnapLoader.Runtime;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// 3. SnapLoader as a published function runs it: <see cref="SnapLoaderRuntime.Start"/> with the manifest the build
/// would compile in (every file's size and SHA-256), the archive named by SNAPLOADER_ARCHIVE. It streams, decodes,
/// verifies, seals, registers and links. With <c>loadLibraries</c> false every file is declared as data, so nothing is
/// dlopened and the result compares with the floors and baselines, which load nothing either; with it true the
/// libraries are also marked to load at init (SnapLoaderLoadAtInit) and so load there, in dependency order (3b). With
/// <c>managedZstd</c> zstd is decoded by ZstdSharp instead of the system's libzstd (3c: what the native decoder gains).
/// </summary>
internal sealed class SnapLoaderLoad(BenchmarkArchive archive, SourceKind source, bool loadLibraries, bool managedZstd = false) : LoadMethod
{
    private readonly string _links = Path.Combine(Path.GetTempPath(), "snaploader-benchmark-links", Guid.NewGuid().ToString("N"));
    private SnapLoaderManifest? _manifest;

    public override void Prepare()
    {
        Environment.SetEnvironmentVariable("SNAPLOADER_ARCHIVE", source.IsS3() ? $"s3://{SourceKinds.Bucket}/{archive.Key}" : archive.Path);
        Environment.SetEnvironmentVariable("SNAPLOADER_TARGET_DIR", _links);
        Environment.SetEnvironmentVariable("SNAPLOADER_BASE_PATH", "/var/task");
        Environment.SetEnvironmentVariable(ZstdDecoders.Variable, managedZstd ? "managed" : null);
        var files = archive.Entries
            .Select(e => new MovedFile(e.Name, e.Size, e.Sha256, loadLibraries ? e.Kind : MovedFileKind.Data, e.Soname, loadAtInit: loadLibraries))
            .ToList();
        _manifest = new SnapLoaderManifest(new ArchiveLocation(archive.Key, archive.Sha256, archive.Length), "linux-x64", files);
    }

    public override Task RunAsync()
    {
        SnapLoaderRuntime.Start(_manifest!);
        return Task.CompletedTask;
    }

    public override void CleanUp()
    {
        if (Directory.Exists(_links))
        {
            Directory.Delete(_links, recursive: true);
        }
    }
}
