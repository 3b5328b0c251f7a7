using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon;
using SnapLoader.Build.Tasks.S3;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// Where the uploader takes its credentials, region and endpoint from. These tests change AWS_*
/// environment variables of this process (and restore them), so none of them runs beside another test.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class S3SettingsTests
{
    private static S3UploadFixture s_fixture = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context) => s_fixture = await S3UploadFixture.StartAsync("s3-settings", "settings");

    [ClassCleanup]
    public static async Task StopServer() => await s_fixture.DisposeAsync();

    [TestMethod]
    public async Task NoCredentialsAnywhere_FailsWithSnap0031NamingWhatWasTried()
    {
        using var environment = IsolatedEnvironment(credentialsFile: "", configFile: "");
        var (path, sha256) = s_fixture.WriteArchive("archive.zip", 1000);
        var location = new S3Location("settings", "no-credentials.zip", "eu-central-1", Profile: null, ServiceUrl: s_fixture.Server.ServiceUrl);
        var elapsed = Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.NoCredentials, error.Code, error.Message);
        Assert.Contains("'settings'", error.Message);
        Assert.Contains("eu-central-1", error.Message);
        Assert.Contains("AWS_ACCESS_KEY_ID", error.Message);
        Assert.Contains("profile 'default'", error.Message);
        Assert.Contains(environment.CredentialsFile, error.Message);
        Assert.IsLessThan(10, elapsed.Elapsed.TotalSeconds);
        Assert.IsEmpty((await s_fixture.Server.SettledRequestsAsync()).Where(r => r.Contains("no-credentials.zip", StringComparison.Ordinal)));
    }

    [TestMethod]
    public async Task MissingProfile_FailsWithSnap0031NamingIt()
    {
        using var environment = IsolatedEnvironment(credentialsFile: "", configFile: "");
        var (path, sha256) = s_fixture.WriteArchive("archive.zip", 1000);
        var location = new S3Location("settings", "no-profile.zip", "us-east-1", Profile: "nobody", ServiceUrl: s_fixture.Server.ServiceUrl);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.NoCredentials, error.Code, error.Message);
        Assert.Contains("profile 'nobody'", error.Message);
    }

    [TestMethod]
    public async Task NamedProfile_GivesCredentialsAndRegion()
    {
        using var environment = IsolatedEnvironment(
            credentialsFile: "[snaploader-test]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n",
            configFile: "[profile snaploader-test]\nregion = eu-west-3\n");
        var (path, sha256) = s_fixture.WriteArchive("archive.zip", 2000);
        var location = new S3Location("settings", "profile.zip", Region: null, Profile: "snaploader-test", ServiceUrl: s_fixture.Server.ServiceUrl);
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, location, log.Enqueue, TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        Assert.IsTrue(log.Any(l => l.Contains("region eu-west-3 from profile 'snaploader-test'", StringComparison.Ordinal)
            && l.Contains("credentials from profile 'snaploader-test'", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task EnvironmentCredentialsAndEndpoint_AreUsedWhenTheLocationLeavesThemOut()
    {
        using var environment = IsolatedEnvironment(credentialsFile: "", configFile: "");
        environment.Set("AWS_ACCESS_KEY_ID", s_fixture.Server.AccessKey);
        environment.Set("AWS_SECRET_ACCESS_KEY", s_fixture.Server.SecretKey);
        environment.Set("AWS_ENDPOINT_URL_S3", s_fixture.Server.ServiceUrl);
        environment.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
        var (path, sha256) = s_fixture.WriteArchive("archive.zip", 3000);
        var location = new S3Location("settings", "environment.zip", Region: null, Profile: null, ServiceUrl: null);
        var log = new ConcurrentQueue<string>();

        var outcome = await ArchiveUploader.UploadAsync(path, sha256, location, log.Enqueue, TestContext.CancellationToken);

        Assert.AreEqual(UploadOutcome.Uploaded, outcome);
        Assert.IsTrue(log.Any(l => l.Contains("(from AWS_ENDPOINT_URL_S3)", StringComparison.Ordinal)
            && l.Contains("region us-east-1 from the default for a custom endpoint", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task NoRegionForAws_FailsWithSnap0033NamingTheBucket()
    {
        using var environment = IsolatedEnvironment(credentialsFile: "", configFile: "");
        var (path, sha256) = s_fixture.WriteArchive("archive.zip", 1000);
        var location = new S3Location("my-artifacts", "no-region.zip", Region: null, Profile: null, ServiceUrl: null);

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderBuildException>(() =>
            ArchiveUploader.UploadAsync(path, sha256, location, _ => { }, TestContext.CancellationToken));

        Assert.AreEqual(ErrorCodes.NoRegion, error.Code, error.Message);
        Assert.Contains("'my-artifacts'", error.Message);
        Assert.Contains("AWS_REGION", error.Message);
    }

    /// <summary>
    /// Clears every AWS_* variable that could bring credentials, a region or an endpoint from this
    /// machine, makes the SDK read profiles from temp files with the given text, and turns off the EC2
    /// instance metadata service (which would otherwise be probed on 169.254.169.254).
    /// </summary>
    /// <remarks>
    /// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE alone would not do: the SDK reads them once per
    /// process, in SharedCredentialsFile's static constructor, so after any earlier test they no longer
    /// count. AWSConfigs.AWSProfilesLocation is read every time, and with AWS_CONFIG_FILE unset the SDK
    /// takes the config file beside it.
    /// </remarks>
    private static AwsEnvironment IsolatedEnvironment(string credentialsFile, string configFile)
    {
        var folder = Path.Combine(s_fixture.Folder, $"aws-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var scope = new AwsEnvironment(Path.Combine(folder, "credentials"));
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("AWS_", StringComparison.Ordinal)))
        {
            scope.Set(name, null);
        }
        File.WriteAllText(scope.CredentialsFile, credentialsFile);
        File.WriteAllText(Path.Combine(folder, "config"), configFile);
        scope.Set("AWS_SHARED_CREDENTIALS_FILE", scope.CredentialsFile);
        AWSConfigs.AWSProfilesLocation = scope.CredentialsFile;
        scope.Set("AWS_EC2_METADATA_DISABLED", "true");
        return scope;
    }

    /// <summary>Environment variables, as <see cref="EnvironmentScope"/> sets them, and the SDK's profiles location, all restored on dispose.</summary>
    private sealed class AwsEnvironment(string credentialsFile) : IDisposable
    {
        private readonly EnvironmentScope _variables = new();
        private readonly string? _savedProfilesLocation = AWSConfigs.AWSProfilesLocation;

        public string CredentialsFile => credentialsFile;

        public void Set(string name, string? value) => _variables.Set(name, value);

        public void Dispose()
        {
            AWSConfigs.AWSProfilesLocation = _savedProfilesLocation;
            _variables.Dispose();
        }
    }
}
