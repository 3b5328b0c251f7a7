using System.Net;
using System.Net.Sockets;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Runtime;

/// <summary>
/// An archive in S3, read with ranged GETs. Region: the manifest's, else <c>AWS_REGION</c>, else
/// <c>AWS_DEFAULT_REGION</c>. Endpoint: <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c> (path-style), else
/// the region's. Credentials: the SDK's default chain (on Lambda, the function role from the environment).
/// </summary>
internal sealed class S3ArchiveSource : IArchiveSource
{
    // A few retries ride out throttling and a dropped connection; more would only delay an init that is failing anyway.
    private const int MaxRetries = 3;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private long _length = -1;

    /// <summary>Reads <paramref name="bucket"/>/<paramref name="key"/> through <paramref name="client"/> (tests pass their own).</summary>
    internal S3ArchiveSource(IAmazonS3 client, string bucket, string key, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentException.ThrowIfNullOrEmpty(key);
        _client = client;
        _ownsClient = ownsClient;
        Bucket = bucket;
        Key = key;
        Description = $"s3://{bucket}/{key}";
    }

    public string Bucket { get; }

    public string Key { get; }

    public string Description { get; }

    /// <summary>Creates a source with a client configured from the environment (see the class remarks).</summary>
    /// <param name="bucket">The bucket.</param>
    /// <param name="key">The object key.</param>
    /// <param name="region">The manifest's region, or <see langword="null"/> to use the function's.</param>
    public static S3ArchiveSource Create(string bucket, string key, string? region)
    {
        return new S3ArchiveSource(new AmazonS3Client(CreateConfig(region)), bucket, key, ownsClient: true);
    }

    /// <summary>The client configuration <see cref="Create"/> uses; separate so tests can check it.</summary>
    internal static AmazonS3Config CreateConfig(string? region)
    {
        var config = new AmazonS3Config
        {
            MaxErrorRetry = MaxRetries,
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
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = Key }, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _length, head.ContentLength);
            return head.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            // A HEAD answer has no body, so it cannot say whether the bucket or the key is missing, nor whether a 403 is
            // a missing permission or a bad key; a one-byte GET carries the error code.
            await ProbeMissingAsync(cancellationToken).ConfigureAwait(false);
            throw Translate(e, "HeadObject");
        }
        catch (Exception e) when (IsS3Failure(e) || IsTimeout(e, cancellationToken))
        {
            throw Translate(e, "HeadObject");
        }
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
        var request = new GetObjectRequest
        {
            BucketName = Bucket,
            Key = Key,
            ByteRange = new ByteRange(offset, offset + length - 1),
        };
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw RuntimeErrors.Truncated(Description, offset, length, Volatile.Read(ref _length));
        }
        catch (Exception e) when (IsS3Failure(e) || IsTimeout(e, cancellationToken))
        {
            throw Translate(e, "GetObject");
        }
        return new ResponseStream(this, response, offset, length);
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private async Task ProbeMissingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var probe = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = Key, ByteRange = new ByteRange(0, 0) }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsS3Failure(e) || IsTimeout(e, cancellationToken))
        {
            throw Translate(e, "GetObject");
        }
    }

    /// <summary>A cancellation nobody asked for is the HTTP client giving up: a timeout, reported as such.</summary>
    private static bool IsTimeout(Exception e, CancellationToken cancellationToken) => e is OperationCanceledException && !cancellationToken.IsCancellationRequested;

    private static bool IsS3Failure(Exception e) => e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException;

    /// <summary>Turns an SDK or network failure into the error a user can act on.</summary>
    internal SnapLoaderException Translate(Exception e, string operation)
    {
        var arn = $"arn:aws:s3:::{Bucket}/{Key}";
        if (e is AmazonS3Exception s3)
        {
            var errorCode = s3.ErrorCode ?? "";
            if (errorCode == "NoSuchBucket")
            {
                return new SnapLoaderException(RuntimeErrorCodes.S3NoSuchBucket,
                    $"Bucket '{Bucket}' does not exist (NoSuchBucket) while reading {Description}. Check the bucket name, the region ({_client.Config.RegionEndpoint?.SystemName ?? _client.Config.ServiceURL ?? "default"}) and AWS_ENDPOINT_URL_S3.", e);
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
        if (e is AmazonClientException && e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
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
            "Check AWS_ENDPOINT_URL_S3, the region, and that the function has a route to S3 (a VPC needs an S3 gateway endpoint or NAT).", e);
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrEmpty(v));

    /// <summary>The body of one ranged GET: checks its length and turns network failures into <see cref="SnapLoaderException"/>.</summary>
    private sealed class ResponseStream(S3ArchiveSource source, GetObjectResponse response, long offset, long length) : Stream
    {
        private readonly Stream _body = response.ResponseStream;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset1, int count) => ReadAsync(buffer.AsMemory(offset1, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset1, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset1, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var want = (int)Math.Min(buffer.Length, length - _position);
            if (want == 0)
            {
                return 0;
            }
            int read;
            try
            {
                read = await _body.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or SocketException || IsTimeout(e, cancellationToken))
            {
                throw source.Translate(e, "GetObject");
            }
            if (read == 0)
            {
                throw RuntimeErrors.Truncated(source.Description, offset, length, offset + _position);
            }
            _position += read;
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset1, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset1, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
