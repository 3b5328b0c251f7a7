using Amazon.Runtime;
using SnapLoader.Build.Tasks.S3;
using SnapLoader.Tests;
// Amazon.S3.Model has an S3Location too.
using S3Location = SnapLoader.Build.Tasks.S3.S3Location;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// What the upload tests of a class share: one s3rver, a folder for the archives they upload, and where and how an
/// upload goes to that server (or to a proxy in front of it).
/// </summary>
internal sealed class S3UploadFixture : IAsyncDisposable
{
    private S3UploadFixture(S3rverServer server, string folder)
    {
        Server = server;
        Folder = folder;
    }

    public S3rverServer Server { get; }

    /// <summary>The folder of the archives; removed on dispose.</summary>
    public string Folder { get; }

    /// <summary>Starts s3rver with <paramref name="buckets"/> and makes a folder named after <paramref name="prefix"/>.</summary>
    public static async Task<S3UploadFixture> StartAsync(string prefix, params string[] buckets) =>
        new(await S3rverServer.StartAsync(buckets), TestPaths.NewTempFolder(prefix));

    /// <summary>An archive of <paramref name="length"/> random bytes in <see cref="Folder"/>, and its SHA-256.</summary>
    public (string Path, string Sha256) WriteArchive(string name, int length) => RandomArchive.Write(Folder, name, length);

    /// <summary>Where an upload goes: <paramref name="bucket"/> and <paramref name="key"/> in us-east-1, at <paramref name="serviceUrl"/> (a proxy's), else at the server.</summary>
    public S3Location Location(string bucket, string key, string? serviceUrl = null) =>
        new(bucket, key, "us-east-1", Profile: null, ServiceUrl: serviceUrl ?? Server.ServiceUrl);

    /// <summary>The uploader's options: <paramref name="credentials"/>, else the server's own, and the part size and parallelism given.</summary>
    public ArchiveUploadOptions Options(long partSize = 8L * 1024 * 1024, int parallelParts = 4, AWSCredentials? credentials = null) => new()
    {
        Credentials = credentials ?? new BasicAWSCredentials(Server.AccessKey, Server.SecretKey),
        PartSize = partSize,
        MaxParallelParts = parallelParts,
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
