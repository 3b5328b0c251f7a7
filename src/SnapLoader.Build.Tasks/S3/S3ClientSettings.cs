using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.S3;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// The region, endpoint and credentials an upload uses, each with where it came from, so that an
/// error can tell the user which setting to fix.
/// </summary>
internal sealed record S3ClientSettings(
    string Region,
    string RegionSource,
    string? ServiceUrl,
    string? ServiceUrlSource,
    AWSCredentials Credentials,
    string CredentialsSource)
{
    /// <summary>
    /// Few retries: a wrong endpoint or a missing bucket must fail the build in seconds, and the
    /// standard retry mode's backoff already covers a passing S3 hiccup.
    /// </summary>
    internal const int MaxErrorRetry = 2;

    /// <summary>How long a connection may take; an endpoint that drops packets fails after this.</summary>
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    // One part at a slow uplink (8 MiB at 100 kB/s is 80 s) must not time out.
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromMinutes(5);

    /// <summary>True when the endpoint is not AWS's own.</summary>
    public bool IsCustomEndpoint => ServiceUrl is not null;

    /// <summary>
    /// Whether PutObject and UploadPart may send aws-chunked bodies (the SDK's default, which signs
    /// each chunk). Not for a custom endpoint: s3rver 3.7.1 decodes no aws-chunked body, even without a
    /// checksum, and stores the framing as the object's bytes (100,000 bytes become 100,265), answering
    /// 200. Without it the SDK signs the whole payload, reading each part twice.
    /// </summary>
    public bool UseChunkEncoding => !IsCustomEndpoint;

    /// <summary>The endpoint as users know it, for messages.</summary>
    public string EndpointDescription => ServiceUrl is null
        ? $"https://s3.{Region}.amazonaws.com"
        : $"{ServiceUrl} (from {ServiceUrlSource})";

    /// <summary>The region and where it came from, for messages.</summary>
    public string RegionDescription => $"region {Region} from {RegionSource}";

    /// <summary>Resolves everything or throws SNAP0031, SNAP0033 or SNAP0035.</summary>
    public static async Task<S3ClientSettings> ResolveAsync(S3Location location, ArchiveUploadOptions options, CancellationToken cancellationToken)
    {
        var (serviceUrl, serviceUrlSource) = ResolveServiceUrl(location);
        var (region, regionSource) = ResolveRegion(location, serviceUrl is not null);
        var (credentials, credentialsSource) = await ResolveCredentialsAsync(location, options, region, cancellationToken).ConfigureAwait(false);
        return new S3ClientSettings(region, regionSource, serviceUrl, serviceUrlSource, credentials, credentialsSource);
    }

    /// <summary>A client for these settings; the caller disposes it.</summary>
    public AmazonS3Client CreateClient()
    {
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = MaxErrorRetry,
            ConnectTimeout = ConnectTimeout,
            Timeout = s_requestTimeout,
        };
        if (ServiceUrl is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }
        else
        {
            config.ServiceURL = ServiceUrl;
            config.AuthenticationRegion = Region;
            // S3-compatible servers seldom resolve bucket.host names (127.0.0.1 cannot have subdomains).
            config.ForcePathStyle = true;
            // SDK v4 adds a CRC32 to every upload by default (S3 checks it), as the trailer of an
            // aws-chunked body or as x-amz-checksum-crc32 and x-amz-sdk-checksum-algorithm headers.
            // Servers that predate this (s3rver 3.7.1 among them) either reject those or store the
            // chunk framing as the object's bytes: "when required" leaves them out. Not enough on its
            // own for s3rver, which decodes no aws-chunked body at all: see UseChunkEncoding.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        return new AmazonS3Client(Credentials, config);
    }

    private static (string? Url, string? Source) ResolveServiceUrl(S3Location location)
    {
        var (url, source) =
            !string.IsNullOrWhiteSpace(location.ServiceUrl) ? (location.ServiceUrl, "SnapLoaderServiceUrl")
            : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") is { Length: > 0 } s3Url ? (s3Url, "AWS_ENDPOINT_URL_S3")
            : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } anyUrl ? (anyUrl, "AWS_ENDPOINT_URL")
            : ((string?)null, (string?)null);
        if (url is null)
        {
            return (null, null);
        }
        url = url.Trim();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new SnapLoaderBuildException(
                ErrorCodes.EndpointUnreachable,
                $"The S3 endpoint '{url}' (from {source}) for bucket '{location.Bucket}' is not an absolute http:// or https:// URL.");
        }
        return (url.TrimEnd('/'), source);
    }

    private static (string Region, string Source) ResolveRegion(S3Location location, bool customEndpoint)
    {
        if (!string.IsNullOrWhiteSpace(location.Region))
        {
            return (location.Region.Trim(), "SnapLoaderRegion");
        }
        foreach (var variable in new[] { "AWS_REGION", "AWS_DEFAULT_REGION" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
            {
                return (fromEnvironment.Trim(), variable);
            }
        }
        var profileName = ProfileName(location);
        if (new CredentialProfileStoreChain().TryGetProfile(profileName, out var profile) && profile.Region is { } profileRegion)
        {
            return (profileRegion.SystemName, $"profile '{profileName}'");
        }
        if (customEndpoint)
        {
            // S3-compatible servers ignore the region, but SigV4 needs one to sign with.
            return ("us-east-1", "the default for a custom endpoint");
        }
        throw new SnapLoaderBuildException(
            ErrorCodes.NoRegion,
            $"No AWS region for bucket '{location.Bucket}'. Set SnapLoaderRegion, the AWS_REGION or AWS_DEFAULT_REGION " +
            $"environment variable, or 'region' in profile '{profileName}' of {AwsSharedFiles.Current().ConfigFile}.");
    }

    private static async Task<(AWSCredentials Credentials, string Source)> ResolveCredentialsAsync(
        S3Location location, ArchiveUploadOptions options, string region, CancellationToken cancellationToken)
    {
        if (options.Credentials is { } given)
        {
            return (given, "the uploader's options");
        }

        AWSCredentials credentials;
        string source;
        if (!string.IsNullOrWhiteSpace(location.Profile))
        {
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(location.Profile, out credentials))
            {
                var (credentialsFile, configFile) = AwsSharedFiles.Current();
                throw NoCredentials(location, region,
                    $"profile '{location.Profile}' is in neither {credentialsFile} nor {configFile}, or holds no usable credentials",
                    cause: null);
            }
            source = $"profile '{location.Profile}'";
        }
        else
        {
            try
            {
                credentials = await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonClientException e)
            {
                throw NoCredentials(location, region, DefaultChainDescription(), e);
            }
            source = $"the SDK's default credential chain ({credentials.GetType().Name})";
        }

        // Resolve now rather than on the first request: an expired SSO session or an unreachable
        // instance metadata service then fails here, with a message that says which source it was.
        try
        {
            await credentials.GetCredentialsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonClientException or InvalidOperationException or IOException or HttpRequestException)
        {
            throw NoCredentials(location, region, $"{source} could not produce credentials", e);
        }
        return (credentials, source);
    }

    private static SnapLoaderBuildException NoCredentials(S3Location location, string region, string tried, Exception? cause)
    {
        var said = cause is null ? "" : $" The SDK said: {cause.Message}";
        return new SnapLoaderBuildException(
            ErrorCodes.NoCredentials,
            $"No AWS credentials to upload to bucket '{location.Bucket}' (region {region}): {tried}. " +
            "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile that has credentials in SnapLoaderProfile, or sign in " +
            $"(aws sso login / aws configure).{said}",
            inner: cause);
    }

    private static string DefaultChainDescription() =>
        "tried the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), " +
        $"profile '{ProfileName(location: null)}' (AWS_PROFILE, else 'default') in {AwsSharedFiles.Describe()}, " +
        "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), " +
        "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI) " +
        "and the EC2 instance metadata service (unless AWS_EC2_METADATA_DISABLED=true)";

    private static string ProfileName(S3Location? location) =>
        !string.IsNullOrWhiteSpace(location?.Profile) ? location.Profile
        : Environment.GetEnvironmentVariable("AWS_PROFILE") is { Length: > 0 } fromEnvironment ? fromEnvironment
        : "default";
}
