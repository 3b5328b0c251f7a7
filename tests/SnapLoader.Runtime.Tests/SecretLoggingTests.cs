using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// The secret key and the session token never reach a log line or an error message, on success or on failure. s3rver
/// checks only the access key id, so the secrets here can be markers that a leak would show verbatim.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets AWS_* environment variables and redirects standard error.
public sealed class SecretLoggingTests
{
    private const string Bucket = "snaploader-secrets";
    private const string Secret = "secret-marker-5f1c2a";
    private const string Token = "token-marker-9d03be";

    [TestMethod]
    public async Task NeitherALoadNorItsFailuresPrintTheSecretOrTheToken()
    {
        await using var server = await S3rverServer.StartAsync(Bucket);
        var folder = TestPaths.NewTempFolder("secrets");
        var source = Path.Combine(folder, "model.bin");
        TestArchives.WriteCompressible(source, 3 << 20, seed: 5);
        var (archive, files) = TestArchives.Pack(folder, ArchiveCompression.Zstd, ("models/model.bin", source, MovedFileKind.Data));
        await server.PutObjectAsync(Bucket, "a.zip", await File.ReadAllBytesAsync(archive));

        var variables = server.AwsVariables(server.ServiceUrl);
        variables["AWS_SECRET_ACCESS_KEY"] = Secret;
        variables["AWS_SESSION_TOKEN"] = Token;
        var output = new StringWriter();
        var errors = new List<string>();
        var originalError = Console.Error;
        using (new EnvironmentScope(variables))
        {
            Console.SetError(output);
            try
            {
                // Success: every stage logs its line.
                await using (var s3 = S3ArchiveSource.Create(Bucket, "a.zip", region: null))
                {
                    var loaded = await LoadedArchive.LoadAsync(s3, files, null, "/var/task", Path.Combine(folder, "links"), LibraryLoading.WhenOpened, CancellationToken.None);
                    loaded.Close();
                }
                // Failures: a missing key, a missing bucket, a range past the end.
                foreach (var (bucket, key) in new[] { (Bucket, "missing.zip"), ("no-such-bucket", "a.zip") })
                {
                    await using var s3 = S3ArchiveSource.Create(bucket, key, region: null);
                    var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() =>
                        LoadedArchive.LoadAsync(s3, files, null, "/var/task", Path.Combine(folder, "links"), LibraryLoading.WhenOpened, CancellationToken.None));
                    errors.Add(error.ToString());
                }
                await using (var s3 = S3ArchiveSource.Create(Bucket, "a.zip", region: null))
                {
                    errors.Add((await Assert.ThrowsExactlyAsync<SnapLoaderException>(async () =>
                        await s3.OpenRangeAsync(10_000_000, 10, CancellationToken.None))).ToString());
                }
            }
            finally
            {
                Console.SetError(originalError);
            }
        }

        var everything = output + string.Join("\n", errors);
        StringAssert.Contains(everything, "download:", "the success path logged");
        StringAssert.Contains(everything, "SNAP1014", "the failures were captured");
        Assert.IsFalse(everything.Contains(Secret, StringComparison.Ordinal), everything);
        Assert.IsFalse(everything.Contains(Token, StringComparison.Ordinal), everything);
        Directory.Delete(folder, recursive: true);
    }
}
