using System.Diagnostics;
using System.Runtime.InteropServices;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

[TestClass]
[DoNotParallelize] // Sets AWS_* environment variables and counts this process's memory files.
public sealed class S3ArchiveSourceTests
{
    private const string Bucket = "snaploader-runtime";
    private static S3rverServer s_server = null!;
    private static string s_folder = "";
    private static string s_libTorchArchive = "";
    private static MovedFile[] s_libTorchFiles = [];

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        s_server = await S3rverServer.StartAsync(Bucket);
        s_folder = TestPaths.NewTempFolder("s3source");
        var native = TestPaths.LibTorchNativeFolder;
        // Load order: every library after the ones it needs.
        (s_libTorchArchive, s_libTorchFiles) = TestArchives.Pack(s_folder, ArchiveCompression.Zstd,
            ("runtimes/linux-x64/native/libgomp-98b21ff3.so.1", Path.Combine(native, "libgomp-98b21ff3.so.1"), MovedFileKind.NativeLibrary),
            ("runtimes/linux-x64/native/libc10.so", Path.Combine(native, "libc10.so"), MovedFileKind.NativeLibrary),
            ("runtimes/linux-x64/native/libtorch_cpu.so", Path.Combine(native, "libtorch_cpu.so"), MovedFileKind.NativeLibrary));
        await s_server.PutObjectAsync(Bucket, "libtorch.zip", await File.ReadAllBytesAsync(s_libTorchArchive));
    }

    [ClassCleanup]
    public static async Task StopServer()
    {
        await s_server.DisposeAsync();
        Directory.Delete(s_folder, recursive: true);
    }

    [TestMethod]
    public async Task LibTorchSetLoadsFromS3InOrder()
    {
        var before = TestArchives.OpenMemfds();
        await using var source = new S3ArchiveSource(s_server.CreateClient(), Bucket, "libtorch.zip", ownsClient: true);
        var clock = Stopwatch.StartNew();
        var loaded = await ArchiveLoader.LoadAsync(source, s_libTorchFiles, null, LoaderSettings.Default, CancellationToken.None);
        clock.Stop();
        try
        {
            var total = loaded.Sum(f => f.Size);
            TestContext.WriteLine($"s3rver: {total / 1e6:F1} MB ({new FileInfo(s_libTorchArchive).Length / 1e6:F1} MB zstd) in {clock.Elapsed.TotalSeconds:F2} s = {total / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s of files");
            CollectionAssert.AreEqual(s_libTorchFiles.Select(f => f.RelativePath).ToArray(), loaded.Select(f => f.RelativePath).ToArray());
            Assert.IsTrue(loaded[2].Size > 400_000_000, "libtorch_cpu.so is the 461 MB one");
            foreach (var file in loaded)
            {
                Assert.IsTrue(file.File.IsSealed);
                Assert.AreEqual(file.Moved!.Sha256, Sha256Hex.OfFile(file.File.ProcPath), file.RelativePath);
                Assert.AreEqual(Sha256Hex.OfFile(Path.Combine(TestPaths.LibTorchNativeFolder, Path.GetFileName(file.RelativePath))), file.Sha256);
            }
            Assert.AreEqual(before.Count + 3, TestArchives.OpenMemfds().Count);
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
        // Ranged GETs only (206), never the whole object.
        var gets = (await s_server.SettledRequestsAsync()).Where(r => r.StartsWith($"GET /{Bucket}/libtorch.zip ", StringComparison.Ordinal)).ToArray();
        Assert.IsTrue(gets.Length >= 8, string.Join('\n', gets));
        Assert.IsTrue(gets.All(r => r.EndsWith(" 206", StringComparison.Ordinal)), string.Join('\n', gets));
    }

    [TestMethod]
    public async Task LibTorchSetDlopensInOrderFromMemoryFiles()
    {
        // libtorch_cpu.so needs libgomp-98b21ff3.so.1 by file name while that library's SONAME is libgomp.so.1, so the
        // dynamic loader finds it only through a real directory: links named like the originals (what the runtime's
        // link farm will do), each pointing to /proc/self/fd/N, opened in load order.
        await using var source = new S3ArchiveSource(s_server.CreateClient(), Bucket, "libtorch.zip", ownsClient: true);
        var loaded = await ArchiveLoader.LoadAsync(source, s_libTorchFiles, null, LoaderSettings.Default, CancellationToken.None);
        var farm = TestPaths.NewTempFolder("farm");
        try
        {
            foreach (var file in loaded)
            {
                File.CreateSymbolicLink(Path.Combine(farm, Path.GetFileName(file.RelativePath)), file.File.ProcPath);
            }
            foreach (var file in loaded)
            {
                var handle = NativeLibrary.Load(Path.Combine(farm, Path.GetFileName(file.RelativePath)));
                Assert.AreNotEqual(IntPtr.Zero, handle, file.RelativePath);
            }
            // The loader mapped the memory files, not copies: /proc/self/maps shows them as /memfd: mappings.
            var maps = File.ReadAllText("/proc/self/maps");
            StringAssert.Contains(maps, "/memfd:runtimes_linux-x64_native_libtorch_cpu.so");
            StringAssert.Contains(maps, "/memfd:runtimes_linux-x64_native_libgomp-98b21ff3.so.1");
        }
        finally
        {
            Directory.Delete(farm, recursive: true);
            // The libraries stay loaded (their mappings keep the memory alive); closing the descriptors is still safe.
            TestArchives.DisposeAll(loaded);
        }
    }

    [TestMethod]
    public async Task LibTorchSetThroughputFromLocalFile()
    {
        await using var source = LocalFileArchiveSource.Open(s_libTorchArchive);
        var clock = Stopwatch.StartNew();
        var loaded = await ArchiveLoader.LoadAsync(source, s_libTorchFiles, null, LoaderSettings.Default, CancellationToken.None);
        clock.Stop();
        var total = loaded.Sum(f => f.Size);
        TestContext.WriteLine($"local: {total / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F2} s = {total / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s of files");
        Assert.AreEqual(3, loaded.Count);
        TestArchives.DisposeAll(loaded);
    }

    [TestMethod]
    public async Task HashMismatchFromS3NamesBucketAndKey()
    {
        var wrong = new string('f', 64);
        var manifest = s_libTorchFiles.Take(2).Append(new MovedFile(s_libTorchFiles[2].RelativePath, s_libTorchFiles[2].Size, wrong, MovedFileKind.NativeLibrary)).ToArray();
        var before = TestArchives.OpenMemfds();
        await using var source = new S3ArchiveSource(s_server.CreateClient(), Bucket, "libtorch.zip", ownsClient: true);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, manifest, null, LoaderSettings.Default, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.HashMismatch, error.Code);
        StringAssert.Contains(error.Message, $"s3://{Bucket}/libtorch.zip");
        StringAssert.Contains(error.Message, "'runtimes/linux-x64/native/libtorch_cpu.so'");
        StringAssert.Contains(error.Message, s_libTorchFiles[2].Sha256);
        StringAssert.Contains(error.Message, wrong);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task TruncatedObjectIsNamedAsSuch()
    {
        var bytes = await File.ReadAllBytesAsync(s_libTorchArchive);
        await s_server.PutObjectAsync(Bucket, "truncated.zip", bytes[..(bytes.Length - 1000)]);
        await using var source = new S3ArchiveSource(s_server.CreateClient(), Bucket, "truncated.zip", ownsClient: true);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ArchiveLoader.LoadAsync(source, s_libTorchFiles, null, LoaderSettings.Default, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.TruncatedArchive, error.Code);
        StringAssert.Contains(error.Message, $"s3://{Bucket}/truncated.zip");
    }

    [TestMethod]
    public async Task CancellationMidDownloadLeavesNoMemoryFile()
    {
        var before = TestArchives.OpenMemfds();
        using var cancel = new CancellationTokenSource();
        var opens = 0;
        await using var source = new InterceptingSource(new S3ArchiveSource(s_server.CreateClient(), Bucket, "libtorch.zip", ownsClient: true), async (_, _) =>
        {
            if (Interlocked.Increment(ref opens) == 4)
            {
                await cancel.CancelAsync();
            }
        });

        await Assert.ThrowsAsync<OperationCanceledException>(() => ArchiveLoader.LoadAsync(source, s_libTorchFiles, null, LoaderSettings.Default, cancel.Token));
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
    }

    [TestMethod]
    public async Task NoCredentialsSaySo()
    {
        using var env = new EnvironmentScope(S3rverServer.WithoutCredentials(s_server.AwsVariables(s_server.ServiceUrl), s_folder));
        await using var source = S3ArchiveSource.Create(Bucket, "libtorch.zip", null);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ZipDirectory.ReadAsync(source, CancellationToken.None));
        TestContext.WriteLine(error.Message);
        Assert.AreEqual(RuntimeErrorCodes.S3NoCredentials, error.Code);
        StringAssert.Contains(error.Message, $"s3://{Bucket}/libtorch.zip");
    }

    [TestMethod]
    public async Task MissingKeyIsNoSuchKey()
    {
        await using var source = new S3ArchiveSource(s_server.CreateClient(), Bucket, "nothing-here.zip", ownsClient: true);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ZipDirectory.ReadAsync(source, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.S3NoSuchKey, error.Code);
        StringAssert.Contains(error.Message, $"s3://{Bucket}/nothing-here.zip");
    }

    [TestMethod]
    public async Task MissingBucketIsNoSuchBucket()
    {
        await using var source = new S3ArchiveSource(s_server.CreateClient(), "no-such-bucket-here", "a.zip", ownsClient: true);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ZipDirectory.ReadAsync(source, CancellationToken.None));
        Assert.AreEqual(RuntimeErrorCodes.S3NoSuchBucket, error.Code);
        StringAssert.Contains(error.Message, "'no-such-bucket-here'");
    }

    [TestMethod]
    public async Task UnreachableEndpointSaysSo()
    {
        using var env = new EnvironmentScope(new()
        {
            ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9",
            ["AWS_ACCESS_KEY_ID"] = "x",
            ["AWS_SECRET_ACCESS_KEY"] = "y",
            ["AWS_REGION"] = "us-east-1",
        });
        await using var source = S3ArchiveSource.Create(Bucket, "libtorch.zip", null);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() => ZipDirectory.ReadAsync(source, CancellationToken.None));
        TestContext.WriteLine(error.Message);
        Assert.AreEqual(RuntimeErrorCodes.S3Unreachable, error.Code);
        StringAssert.Contains(error.Message, "AWS_ENDPOINT_URL_S3");
        StringAssert.Contains(error.Message, "Tried bytes 0-0 4 times", "a refused connection may be a passing fault: retried, then named as unreachable");
    }

    [TestMethod]
    public async Task EnvironmentConfiguresEndpointRegionAndCredentials()
    {
        using var env = new EnvironmentScope(new()
        {
            ["AWS_ENDPOINT_URL_S3"] = null,
            ["AWS_ENDPOINT_URL"] = s_server.ServiceUrl,
            ["AWS_ACCESS_KEY_ID"] = s_server.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = s_server.SecretKey,
            ["AWS_REGION"] = null,
            ["AWS_DEFAULT_REGION"] = "eu-west-1",
        });
        var config = S3ArchiveSource.CreateConfig(null);
        Assert.IsTrue(config.ForcePathStyle);
        Assert.AreEqual("eu-west-1", config.AuthenticationRegion);
        Assert.AreEqual("eu-west-3", S3ArchiveSource.CreateConfig("eu-west-3").AuthenticationRegion, "the manifest's region wins");

        await using var source = S3ArchiveSource.Create(Bucket, "libtorch.zip", null);
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        CollectionAssert.AreEqual(s_libTorchFiles.Select(f => f.RelativePath).ToArray(), directory.Entries.Select(e => e.Name).ToArray());
    }

    [TestMethod]
    [DataRow("NOT-S3RVER", "InvalidAccessKeyId")]
    public async Task WrongCredentialsAreNamedAsSuch(string accessKey, string errorCode)
    {
        // The first request (a one-byte GET for the length) answers 403 with InvalidAccessKeyId: the key, not a missing permission.
        // (s3rver 3.7.1 accepts a wrong secret with the right key, so SignatureDoesNotMatch cannot be shown here.)
        await using var source = new S3ArchiveSource(CreateClient(accessKey, "wrong-secret"), Bucket, "libtorch.zip", ownsClient: true);
        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(async () =>
        {
            await source.GetLengthAsync(CancellationToken.None);
            await source.ReadAsync(0, new byte[10], CancellationToken.None);
        });
        TestContext.WriteLine(error.Message);
        Assert.AreEqual(RuntimeErrorCodes.S3Failed, error.Code);
        StringAssert.Contains(error.Message, errorCode);
        StringAssert.Contains(error.Message, "AWS_SECRET_ACCESS_KEY");
    }

    [TestMethod]
    public void AccessDeniedNamesTheIamActionAndResource()
    {
        var source = new S3ArchiveSource(s_server.CreateClient(), "my-bucket", "snaploader/abc.zip", ownsClient: true);
        var denied = new Amazon.S3.AmazonS3Exception("Access Denied") { ErrorCode = "AccessDenied", StatusCode = System.Net.HttpStatusCode.Forbidden };
        var error = source.Translate(denied, "GetObject");
        Assert.AreEqual(RuntimeErrorCodes.S3AccessDenied, error.Code);
        StringAssert.Contains(error.Message, "s3:GetObject on resource arn:aws:s3:::my-bucket/snaploader/abc.zip");
        Assert.AreSame(denied, error.InnerException);

        var noCredentials = new Amazon.Runtime.AmazonClientException("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: ...");
        Assert.AreEqual(RuntimeErrorCodes.S3NoCredentials, source.Translate(noCredentials, "HeadObject").Code);
    }

    private static Amazon.S3.AmazonS3Client CreateClient(string accessKey, string secretKey)
    {
        var config = new Amazon.S3.AmazonS3Config
        {
            ServiceURL = s_server.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        };
        return new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials(accessKey, secretKey), config);
    }
}
