using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace SnapLoader.Runtime;

/// <summary>
/// An archive in S3, read with ranged GETs. Region: the manifest's, else <c>AWS_REGION</c>, else
/// <c>AWS_DEFAULT_REGION</c>. Endpoint: <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c> (path-style), else
/// the region's. Credentials: the SDK's default chain (on Lambda, the function role from the environment).
/// </summary>
/// <remarks>
/// Every read is a byte range that retries by itself (<see cref="S3RangeStream"/>, <see cref="S3RetrySettings"/>): a
/// failed answer is asked again after a backoff, a body that breaks off or stalls is resumed from the byte it reached.
/// What will not pass by asking again (NoSuchKey, AccessDenied, a wrong region, bad credentials) fails at once.
/// </remarks>
internal sealed class S3ArchiveSource : IArchiveSource
{
    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private long _length = -1;
    private long _received;
    private int _failures;
    private string? _lastFailure;

    /// <summary>Reads <paramref name="bucket"/>/<paramref name="key"/> through <paramref name="client"/> (tests pass their own).</summary>
    internal S3ArchiveSource(IAmazonS3 client, string bucket, string key, bool ownsClient, S3RetrySettings? retry = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        retry ??= S3RetrySettings.Default;
        retry.Validate();
        _client = client;
        _ownsClient = ownsClient;
        Retry = retry;
        Bucket = bucket;
        Key = key;
        Description = $"s3://{bucket}/{key}";
    }

    public string Bucket { get; }

    public string Key { get; }

    public string Description { get; }

    /// <summary>How each range retries.</summary>
    public S3RetrySettings Retry { get; }

    /// <summary>The region the requests are signed for: the one S3 must agree with.</summary>
    public string RegionAsked => NonEmpty(_client.Config.AuthenticationRegion) ?? _client.Config.RegionEndpoint?.SystemName ?? "us-east-1";

    /// <summary>The object's length once known, else -1.</summary>
    internal long KnownLength => Volatile.Read(ref _length);

    internal IAmazonS3 Client => _client;

    /// <summary>What this source got done, for a message about a load that ran out of time.</summary>
    internal string Progress
    {
        get
        {
            var failures = Volatile.Read(ref _failures);
            return $"{Volatile.Read(ref _received):N0} bytes had arrived from S3" +
                (failures == 0 ? "" : $" and {failures} requests had failed (the last: {Volatile.Read(ref _lastFailure)})");
        }
    }

    /// <summary>Creates a source with a client configured from the environment (see the class remarks).</summary>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key.</param>
    /// <param name="region">The manifest's region, or <see langword="null"/> to use the function's.</param>
    /// <param name="retry">How ranges retry; the defaults when <see langword="null"/>.</param>
    public static S3ArchiveSource Create(string bucket, string key, string? region, S3RetrySettings? retry = null)
    {
        return new S3ArchiveSource(new AmazonS3Client(CreateConfig(region)), bucket, key, ownsClient: true, retry);
    }

    /// <summary>The client configuration <see cref="Create"/> uses; separate so tests can check it.</summary>
    internal static AmazonS3Config CreateConfig(string? region)
    {
        var config = new AmazonS3Config
        {
            // The ranges retry by themselves, with backoff, resuming a broken body where it stopped, within a count and
            // a deadline made for Lambda's init. SDK retries underneath would multiply every attempt (4 x 4 requests per
            // range, each with its own backoff), could not resume a body, and would hide the attempts from the error.
            MaxErrorRetry = 0,
            // Likewise its silent retries of a reset on a reused connection (10 by default, outside MaxErrorRetry).
            MaxStaleConnectionRetries = 0,
            // Every file is checked against its SHA-256 anyway, and ranged GETs carry no whole-object checksum.
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        };
        var regionName = FirstNonEmpty(region, Environment.GetEnvironmentVariable("AWS_REGION"), Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));
        var endpoint = FirstNonEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"), Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"));
        if (endpoint is not null)
        {
            // A custom endpoint (LocalStack, MinIO, s3rver) rarely serves virtual-hosted bucket names.
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = regionName ?? "us-east-1";
        }
        else if (regionName is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(regionName);
        }
        return config;
    }

    public async ValueTask<long> GetLengthAsync(CancellationToken cancellationToken)
    {
        var known = Volatile.Read(ref _length);
        if (known >= 0)
        {
            return known;
        }
        // A one-byte GET, not a HEAD: its Content-Range gives the length, and an error answer carries its code
        // (a HEAD's has no body, so a 404 or 403 could not tell a missing bucket from a missing key or permission).
        long length;
        try
        {
            await using var first = await S3RangeStream.OpenAsync(this, 0, 1, cancellationToken).ConfigureAwait(false);
            length = first.ObjectLength ?? throw new SnapLoaderException(RuntimeErrorCodes.S3Failed,
                $"S3 GetObject on {Description} answered a ranged GET without the object's length (Content-Range). Check AWS_ENDPOINT_URL_S3.");
        }
        catch (SnapLoaderException e) when (e.Code == RuntimeErrorCodes.TruncatedArchive)
        {
            // Not even byte 0: the object is empty, which the directory reader reports as such.
            length = 0;
        }
        Volatile.Write(ref _length, length);
        return length;
    }

    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.Length == 0)
        {
            return;
        }
        await using var stream = await OpenRangeAsync(offset, destination.Length, cancellationToken).ConfigureAwait(false);
        await stream.ReadExactlyAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Stream> OpenRangeAsync(long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return await S3RangeStream.OpenAsync(this, offset, length, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Counts bytes of the archive received, for <see cref="Progress"/>.</summary>
    internal void NoteReceived(int count) => Interlocked.Add(ref _received, count);

    /// <summary>Counts a failed attempt worth retrying, for <see cref="Progress"/>.</summary>
    internal void NoteFailure(Exception failure)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastFailure, S3Failures.Describe(failure));
    }

    /// <summary>Turns an SDK or network failure into the error a user can act on.</summary>
    /// <param name="e">The failure.</param>
    /// <param name="operation">The S3 action, for the message.</param>
    /// <param name="attempts">A sentence on the attempts made, appended to a network failure's message.</param>
    internal SnapLoaderException Translate(Exception e, string operation, string attempts = "")
    {
        if (e is SnapLoaderException known)
        {
            return known;
        }
        var arn = $"arn:aws:s3:::{Bucket}/{Key}";
        if (e is AmazonS3Exception s3)
        {
            var errorCode = s3.ErrorCode ?? "";
            if (BucketRegionHint.IsWrongRegion(s3))
            {
                return FaultErrors.WrongRegion(Bucket, Key, RegionAsked, BucketRegionHint.From(s3), operation, s3);
            }
            if (errorCode == "NoSuchBucket")
            {
                return new SnapLoaderException(RuntimeErrorCodes.S3NoSuchBucket,
                    $"Bucket '{Bucket}' does not exist (NoSuchBucket) while reading {Description}. Check the bucket name, the region ({RegionAsked}) and AWS_ENDPOINT_URL_S3 ({_client.Config.ServiceURL ?? "not set"}).", e);
            }
            if (errorCode == "NoSuchKey" || (s3.StatusCode == HttpStatusCode.NotFound && errorCode is "" or "NotFound"))
            {
                return new SnapLoaderException(RuntimeErrorCodes.S3NoSuchKey,
                    $"Object {Description} does not exist (NoSuchKey). The archive was not uploaded by the build, was deleted, or the function points at another bucket.", e);
            }
            if (errorCode is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" or "TokenRefreshRequired")
            {
                return new SnapLoaderException(RuntimeErrorCodes.S3Failed,
                    $"S3 refused the credentials for {operation} on {Description}: {errorCode} (HTTP {(int)s3.StatusCode}). The access key is unknown, the secret is wrong, " +
                    "or the session token expired: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (on Lambda they come from the function's role).", e);
            }
            if (errorCode is "AccessDenied" or "Forbidden" or "" || s3.StatusCode == HttpStatusCode.Forbidden)
            {
                return new SnapLoaderException(RuntimeErrorCodes.S3AccessDenied,
                    $"S3 denied {operation} on {Description} ({(errorCode.Length > 0 ? errorCode : "403")}). Grant the function's role the IAM action s3:GetObject on resource {arn} " +
                    $"(without s3:ListBucket on arn:aws:s3:::{Bucket}, S3 also answers AccessDenied for a missing key). Check bucket policies and KMS key access too.", e);
            }
            return new SnapLoaderException(RuntimeErrorCodes.S3Failed,
                $"S3 {operation} on {Description} failed: {errorCode} (HTTP {(int)s3.StatusCode}): {s3.Message}", e);
        }
        if (S3Failures.IsMissingCredentials(e))
        {
            return new SnapLoaderException(RuntimeErrorCodes.S3NoCredentials,
                $"No AWS credentials to read {Description}: the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, container or instance role) found none. {e.Message}", e);
        }
        if (e is AmazonServiceException service && service.StatusCode != 0)
        {
            return new SnapLoaderException(RuntimeErrorCodes.S3Failed,
                $"S3 {operation} on {Description} failed: {service.ErrorCode} (HTTP {(int)service.StatusCode}): {service.Message}", e);
        }
        // Everything else is the network: DNS, refused connection, timeout, reset.
        return new SnapLoaderException(RuntimeErrorCodes.S3Unreachable,
            $"Cannot reach S3 for {operation} on {Description} (endpoint {_client.Config.ServiceURL ?? _client.Config.RegionEndpoint?.SystemName ?? "default"}): {e.Message}. " +
            "Check AWS_ENDPOINT_URL_S3, the region, and that the function has a route to S3 (a VPC needs an S3 gateway endpoint or NAT)." + attempts, e);
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrEmpty(v));

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
