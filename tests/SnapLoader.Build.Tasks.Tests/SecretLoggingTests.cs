using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// The upload never logs the secret key or the session token, on success or on failure. s3rver checks only the access
/// key id, so the secrets can be markers that a leak would show verbatim.
/// </summary>
[TestClass]
[DoNotParallelize] // Sets AWS_* environment variables.
public sealed class SecretLoggingTests
{
    private const string Secret = "secret-marker-7a41d0";
    private const string Token = "token-marker-c2e95f";

    [TestMethod]
    public async Task UploadsAndTheirFailuresNeverPrintTheSecretOrTheToken()
    {
        await using var server = await S3rverServer.StartAsync("artifacts");
        var folder = TestPaths.NewTempFolder("secrets");
        var archive = Path.Combine(folder, "a.zip");
        await File.WriteAllBytesAsync(archive, new byte[100_000]);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(archive)));

        var variables = server.AwsVariables();
        variables["AWS_SECRET_ACCESS_KEY"] = Secret;
        variables["AWS_SESSION_TOKEN"] = Token;
        var engine = new RecordingBuildEngine();
        using (new EnvironmentScope(variables))
        {
            UploadArchive Task(string bucket) => new()
            {
                BuildEngine = engine, ArchivePath = archive, ArchiveSha256 = sha256, Bucket = bucket, Key = "snaploader/a.zip", ServiceUrl = server.ServiceUrl,
            };
            Assert.IsTrue(Task("artifacts").Execute(), engine.AllText);
            Assert.IsFalse(Task("no-such-bucket").Execute());
        }

        CollectionAssert.Contains(engine.ErrorCodes.ToList(), "SNAP0030", "the failure was logged");
        Assert.IsFalse(engine.AllText.Contains(Secret, StringComparison.Ordinal), engine.AllText);
        Assert.IsFalse(engine.AllText.Contains(Token, StringComparison.Ordinal), engine.AllText);
        Directory.Delete(folder, recursive: true);
    }
}
