using Amazon.Runtime.CredentialManagement;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>The shared credentials and config files the AWS SDK reads profiles from, named in messages.</summary>
/// <remarks>
/// Asks the SDK rather than reading AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE here: the SDK reads
/// those two variables once per process (an MSBuild node outlives a build) and lets
/// AWSConfigs.AWSProfilesLocation override the credentials file, so only its own answer is the truth.
/// </remarks>
internal static class AwsSharedFiles
{
    /// <summary>The credentials file and the config file, as the SDK would read them now.</summary>
    public static (string CredentialsFile, string ConfigFile) Current()
    {
        var file = new SharedCredentialsFile();
        // Mirrors SharedCredentialsFile: without AWS_CONFIG_FILE it reads the "config" beside the credentials file.
        var config = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_CONFIG_FILE"))
            ? Path.Combine(Path.GetDirectoryName(file.FilePath) ?? "", "config")
            : file.ConfigFilePath;
        return (file.FilePath, config);
    }

    /// <summary>"FILE and FILE", for messages.</summary>
    public static string Describe()
    {
        var (credentials, config) = Current();
        return $"{credentials} and {config}";
    }
}
