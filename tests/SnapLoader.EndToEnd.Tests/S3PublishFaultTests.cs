using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.S3;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>A real `dotnet publish` whose S3 server dies during the upload, against s3rver on 127.0.0.1.</summary>
[TestClass]
public sealed partial class S3PublishFaultTests
{
    // Stored, so the archive is as large as the file: eight parts of 8 MiB, about a second of upload to
    // s3rver, most of which is still to come when the first progress line (10%) shows.
    private const int ModelBytes = 64 * 1000 * 1000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task ServerKilledDuringThePublishUpload_FailsWithItsCodeAndTheUploadToAbort_AndTheNextPublishUploads()
    {
        await using var server = await S3rverServer.StartAsync();
        await server.CreateBucketAsync("artifacts");
        var project = FunctionProject.Create(
            """
            <None Include="model.bin" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="model.bin" />
            """,
            $"""
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SnapLoaderCompression>Stored</SnapLoaderCompression>
            <SnapLoaderBucket>artifacts</SnapLoaderBucket>
            <SnapLoaderServiceUrl>{server.ServiceUrl}</SnapLoaderServiceUrl>
            """);
        File.WriteAllBytes(Path.Combine(project.Directory, "model.bin"), RandomNumberGenerator.GetBytes(ModelBytes));
        var credentials = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = server.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = server.SecretKey,
            ["AWS_REGION"] = "us-east-1",
        };

        var killed = false;
        void KillAtTheFirstProgressLine(string line)
        {
            // The parts are in flight once the upload reports progress; the publish's output reaches this
            // process within milliseconds, most of the upload still to come.
            if (!killed && line.Contains("SnapLoader: Uploading s3://", StringComparison.Ordinal) && line.Contains("%)", StringComparison.Ordinal))
            {
                killed = true;
                server.KillAsync().GetAwaiter().GetResult();
            }
        }

        var failed = project.Publish(["--self-contained", "false"], credentials, KillAtTheFirstProgressLine);

        Assert.IsTrue(killed, "the upload reported no progress:\n" + failed.Output);
        TestContext.WriteLine(string.Join("\n", failed.Output.Split('\n').Where(l => l.Contains("error SNAP", StringComparison.Ordinal)).Distinct()));
        Assert.AreNotEqual(0, failed.ExitCode, failed.Output);
        var archive = Directory.GetFiles(Path.Combine(project.Directory, "obj", "Release", "net8.0", "linux-x64", "snaploader"), "*.zip").Single();
        var key = "snaploader/" + Path.GetFileName(archive);
        var uploadId = UploadId().Match(failed.Output) is { Success: true } match ? match.Groups[1].Value : null;
        Assert.IsNotNull(uploadId, failed.Output);
        StringAssert.Contains(failed.Output, "error SNAP0035");
        StringAssert.Contains(failed.Output, $"s3://artifacts/{key}");
        Assert.IsFalse(failed.Output.Contains("SnapLoader: Uploaded s3://", StringComparison.Ordinal), failed.Output);
        StringAssert.Contains(failed.Output, $"aws s3api abort-multipart-upload --bucket artifacts --key {key} --upload-id {uploadId}");

        await server.RestartAsync();
        using var client = server.CreateClient();
        var missing = await Assert.ThrowsExactlyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync("artifacts", key, TestContext.CancellationToken));
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);

        var next = project.Publish(["--self-contained", "false"], credentials).EnsureSuccess("the publish after the restart");

        StringAssert.Contains(next.Output, $"Uploaded s3://artifacts/{key}");
        var sha256 = Path.GetFileNameWithoutExtension(archive);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive))));
        using var response = await client.GetObjectAsync("artifacts", key, TestContext.CancellationToken);
        Assert.AreEqual(sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(response.ResponseStream, TestContext.CancellationToken)));
    }

    [GeneratedRegex(@"\(multipart upload ([^)\s]+)\)")]
    private static partial Regex UploadId();
}
