using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Win32.SafeHandles;

namespace SnapLoader.Benchmarks.Load.Methods;

/// <summary>
/// The three ways the floor and the baselines fetch an archive, from a local file or from S3. The runtime has its own
/// sources; this is deliberately independent of them, so the floors measure the transport, not the runtime.
/// </summary>
internal abstract class ArchiveReader : IDisposable
{
    /// <summary>Range size and ranges in flight of the runtime's defaults on 2 cores (LoaderSettings: 16 MiB, max(4, 2 x cores)).</summary>
    public const int RangeSize = 16 << 20;
    public static int Parallelism => Math.Max(4, 2 * Environment.ProcessorCount);

    public static ArchiveReader Open(SourceKind source, BenchmarkArchive archive) =>
        source.IsS3() ? new S3Reader(archive.Key) : new LocalReader(archive.Path);

    /// <summary>Reads every byte of the archive in <see cref="RangeSize"/> ranges, <see cref="Parallelism"/> at a time, and drops them.</summary>
    public async Task<long> ReadAllRangesAsync(long length)
    {
        var next = -1L;
        var total = 0L;
        var workers = Enumerable.Range(0, Parallelism).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[RangeSize];
            long index;
            while ((index = Interlocked.Increment(ref next)) * RangeSize < length)
            {
                var offset = index * RangeSize;
                var count = (int)Math.Min(RangeSize, length - offset);
                await ReadRangeAsync(offset, buffer.AsMemory(0, count)).ConfigureAwait(false);
                Interlocked.Add(ref total, count);
            }
        }));
        await Task.WhenAll(workers).ConfigureAwait(false);
        return total;
    }

    /// <summary>The whole archive in one read (one GET) into one array.</summary>
    public abstract Task<byte[]> ReadWholeAsync();

    /// <summary>The whole archive in one read (one GET) into <paramref name="destination"/>.</summary>
    public abstract Task DownloadToAsync(string destination);

    protected abstract Task ReadRangeAsync(long offset, Memory<byte> destination);

    public virtual void Dispose()
    {
    }

    private sealed class LocalReader(string path) : ArchiveReader
    {
        private readonly SafeFileHandle _handle = File.OpenHandle(path, options: FileOptions.Asynchronous);

        public override Task<byte[]> ReadWholeAsync() => File.ReadAllBytesAsync(path);

        public override Task DownloadToAsync(string destination)
        {
            File.Copy(path, destination);
            return Task.CompletedTask;
        }

        protected override async Task ReadRangeAsync(long offset, Memory<byte> destination)
        {
            while (destination.Length > 0)
            {
                var read = await RandomAccess.ReadAsync(_handle, destination, offset).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{path} ended at {offset}.");
                }
                destination = destination[read..];
                offset += read;
            }
        }

        public override void Dispose() => _handle.Dispose();
    }

    /// <summary>
    /// Configured like the runtime's client (S3ArchiveSource): endpoint from AWS_ENDPOINT_URL_S3 with path-style
    /// addressing, credentials from the environment, no checksum validation of ranged reads.
    /// </summary>
    private sealed class S3Reader(string key) : ArchiveReader
    {
        private readonly AmazonS3Client _client = new(new AmazonS3Config
        {
            ServiceURL = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3")
                ?? throw new InvalidOperationException("AWS_ENDPOINT_URL_S3 is not set; the parent sets it to s3rver's address."),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

        public override async Task<byte[]> ReadWholeAsync()
        {
            using var response = await GetAsync(null).ConfigureAwait(false);
            var content = new byte[response.ContentLength];
            await response.ResponseStream.ReadExactlyAsync(content).ConfigureAwait(false);
            return content;
        }

        public override async Task DownloadToAsync(string destination)
        {
            using var response = await GetAsync(null).ConfigureAwait(false);
            await using var file = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
            await response.ResponseStream.CopyToAsync(file, 1 << 20).ConfigureAwait(false);
        }

        protected override async Task ReadRangeAsync(long offset, Memory<byte> destination)
        {
            using var response = await GetAsync(new ByteRange(offset, offset + destination.Length - 1)).ConfigureAwait(false);
            await response.ResponseStream.ReadExactlyAsync(destination).ConfigureAwait(false);
        }

        private Task<GetObjectResponse> GetAsync(ByteRange? range) =>
            _client.GetObjectAsync(new GetObjectRequest { BucketName = SourceKinds.Bucket, Key = key, ByteRange = range });

        public override void Dispose() => _client.Dispose();
    }
}
