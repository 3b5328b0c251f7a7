using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// What the fault tests share: s3rver with two real archives (libgomp and libc10 of libtorch, packed by the build's
/// own writer, once with zstd and once stored), and a <see cref="FaultProxy"/> in front of it, with the environment
/// pointing the runtime's S3 client at the proxy.
/// </summary>
internal sealed class S3FaultFixture : IAsyncDisposable
{
    public const string Bucket = "snaploader-faults";
    public const string ZstdKey = "faults/zstd.zip";
    public const string StoredKey = "faults/stored.zip";

    /// <summary>
    /// Larger than every read of the directory (the 64 KiB tail, 30-byte local headers, the first byte) and at most
    /// <see cref="Options"/>' range size: a rule with it hits the entries' data only, after the memory files exist.
    /// </summary>
    public const long DataRangeLength = 100_000;

    private FaultProxy? _proxy;
    private S3rverServer? _server;

    private S3FaultFixture(string folder) => Folder = folder;

    public S3rverServer Server => _server!;

    public FaultProxy Proxy => _proxy!;

    public string Folder { get; }

    /// <summary>The archive files and their manifest records, by key.</summary>
    public Dictionary<string, (string Archive, MovedFile[] Files)> Archives { get; } = [];

    /// <summary>Small ranges, so that each file takes several GETs and a fault can hit one in the middle of the data.</summary>
    public static LoaderSettings Options { get; } = new() { RangeSize = 256 << 10, AllowAnyRangeSize = true, Parallelism = 4, EntryParallelism = 2 };

    /// <summary>Retries fast enough for tests: four attempts, backoff caps of 20, 40, 80 ms, a stall timeout of 0.5 s.</summary>
    public static S3RetrySettings QuickRetry { get; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        StallTimeout = TimeSpan.FromMilliseconds(500),
    };

    public static string PathOf(string key, string bucket = Bucket) => $"/{bucket}/{key}";

    public static async Task<S3FaultFixture> StartAsync()
    {
        var fixture = new S3FaultFixture(TestPaths.NewTempFolder("s3faults"));
        try
        {
            fixture._server = await S3rverServer.StartAsync(Bucket);
            var native = TestPaths.LibTorchNativeFolder;
            foreach (var (key, compression) in new[] { (ZstdKey, ArchiveCompression.Zstd), (StoredKey, ArchiveCompression.Stored) })
            {
                var packed = TestArchives.Pack(fixture.Folder, compression,
                    ("runtimes/linux-x64/native/libgomp-98b21ff3.so.1", Path.Combine(native, "libgomp-98b21ff3.so.1"), MovedFileKind.NativeLibrary),
                    ("runtimes/linux-x64/native/libc10.so", Path.Combine(native, "libc10.so"), MovedFileKind.NativeLibrary));
                fixture.Archives[key] = packed;
                await fixture.Server.PutObjectAsync(Bucket, key, await File.ReadAllBytesAsync(packed.Archive));
            }
            fixture._proxy = FaultProxy.Start(fixture.Server.ServiceUrl);
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    /// <summary>The environment that sends the runtime's own S3 client (<see cref="S3ArchiveSource.Create"/>) through the proxy.</summary>
    public EnvironmentScope UseProxy(Dictionary<string, string?>? more = null)
    {
        var values = Server.AwsVariables(Proxy.ServiceUrl);
        values["AWS_MAX_ATTEMPTS"] = null;
        values["SNAPLOADER_ARCHIVE"] = null;
        values["SNAPLOADER_LOAD_TIMEOUT"] = null;
        foreach (var (name, value) in more ?? [])
        {
            values[name] = value;
        }
        return new EnvironmentScope(values);
    }

    /// <summary>Checks that every file loaded sealed and byte for byte equal to the original library, then closes them.</summary>
    public static void AssertIntactAndClose(IReadOnlyList<LoadedFile> loaded)
    {
        try
        {
            Assert.AreEqual(2, loaded.Count);
            foreach (var file in loaded)
            {
                Assert.IsTrue(file.File.IsSealed, file.RelativePath);
                Assert.AreEqual(file.Moved!.Sha256, file.Sha256, file.RelativePath);
                var original = Path.Combine(TestPaths.LibTorchNativeFolder, Path.GetFileName(file.RelativePath));
                Assert.AreEqual(Sha256Hex.OfFile(original), Sha256Hex.OfFile(file.File.ProcPath), $"{file.RelativePath}: the memory file's bytes");
            }
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        Directory.Delete(Folder, recursive: true);
    }
}
