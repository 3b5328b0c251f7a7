using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace SnapLoader.Tests;

/// <summary>
/// A real S3-compatible server (s3rver from npm, installed by <c>npm ci --prefix tests/s3rver</c>) on
/// 127.0.0.1 with a port the OS picks and a fresh data folder. It checks SigV4 signatures with
/// <see cref="AccessKey"/> and <see cref="SecretKey"/>. Dispose it to kill the node process tree.
/// </summary>
/// <remarks>
/// s3rver 3.7.1 does not implement ListMultipartUploads (501) nor AbortMultipartUpload (405), so
/// <see cref="PendingMultipartUploads"/> reads its data folder and <see cref="WaitForRequestAsync"/>
/// shows which requests it received.
/// </remarks>
internal sealed partial class S3rverServer : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly string _script;
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _output = new();
    // Replaced by RestartAsync: each node process announces its port once.
    private Process _process = null!;
    private TaskCompletionSource<int> _port = null!;
    private int _disposed;
    private int _buckets;

    private S3rverServer(string script, string dataDirectory)
    {
        _script = script;
        DataDirectory = dataDirectory;
    }

    /// <summary>The endpoint, such as <c>http://127.0.0.1:41234</c>; use it with path-style addressing.</summary>
    public string ServiceUrl { get; private set; } = "";

    /// <summary>The access key s3rver accepts.</summary>
    public string AccessKey => "S3RVER";

    /// <summary>The secret key s3rver accepts.</summary>
    public string SecretKey => "S3RVER";

    /// <summary>User and system time node has used so far: what serving costs on the cores it shares with the tests.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The folder s3rver keeps its buckets in; removed on dispose.</summary>
    public string DataDirectory { get; }

    /// <summary>
    /// Every request s3rver answered so far, in the order it logged them, as
    /// <c>METHOD /bucket/key?query STATUS</c>, for example <c>DELETE /b/k?uploadId=ab12 405</c>.
    /// </summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    /// <summary>
    /// Starts s3rver, waits until it answers and creates <paramref name="buckets"/>. Throws if node or s3rver is
    /// missing (with the command that installs it) or if it does not start within 30 s.
    /// </summary>
    public static async Task<S3rverServer> StartAsync(params string[] buckets)
    {
        var script = Path.Combine(TestPaths.RepositoryRoot, "tests", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"s3rver is not installed: run `npm ci --prefix tests/s3rver` in {TestPaths.RepositoryRoot} (no {script})");
        }

        var server = new S3rverServer(script, TestPaths.NewTempFolder("s3rver"));
        try
        {
            // Port 0 lets the OS pick a free port, which s3rver prints once it listens: no race with
            // another process taking a port we probed.
            await server.LaunchAsync(port: 0).ConfigureAwait(false);
            foreach (var bucket in buckets)
            {
                await server.CreateBucketAsync(bucket).ConfigureAwait(false);
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Kills the node process at once (SIGKILL, as a crash or a lost host would end it), with requests
    /// in flight cut off; the data folder and the port number are kept for <see cref="RestartAsync"/>.
    /// </summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts s3rver again after <see cref="KillAsync"/>, on the same port and data folder, so clients and
    /// <see cref="ServiceUrl"/> stay valid and what it stored before the kill is there again.
    /// </summary>
    public async Task RestartAsync()
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException("s3rver is still running; kill it first.");
        }
        _process.Dispose();
        await LaunchAsync(new Uri(ServiceUrl).Port).ConfigureAwait(false);
    }

    /// <summary>Starts node with s3rver on <paramref name="port"/> and waits until it answers.</summary>
    private async Task LaunchAsync(int port)
    {
        var startInfo = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { _script, "--directory", DataDirectory, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-vhost-buckets" })
        {
            startInfo.ArgumentList.Add(argument);
        }
        // s3rver's request logger cuts a fixed number of characters that it expects to be colour codes;
        // without colours it would cut the method and the start of the path.
        startInfo.Environment["FORCE_COLOR"] = "1";

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = process;
        _port = listening;
        process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => OnOutput(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException(
            $"s3rver exited with code {SafeExitCode(process)} before it listened. Output:\n{string.Join('\n', _output)}"));
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("Cannot start `node`: install Node.js and put it on PATH.", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var actualPort = await listening.Task.WaitAsync(s_startTimeout).ConfigureAwait(false);
            ServiceUrl = $"http://127.0.0.1:{actualPort}";
            using var client = CreateClient();
            await client.ListBucketsAsync(new ListBucketsRequest()).WaitAsync(s_startTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException(
                $"s3rver did not answer within {s_startTimeout.TotalSeconds:0} s. Output:\n{string.Join('\n', _output)}", e);
        }
    }

    /// <summary>
    /// An S3 client for this server: its credentials, path-style addressing, no retries. s3rver does
    /// not decode aws-chunked bodies, which the SDK sends by default and s3rver stores framing and all:
    /// set <c>UseChunkEncoding = false</c> on a PutObjectRequest or UploadPartRequest, or use
    /// <see cref="PutObjectAsync"/>.
    /// </summary>
    public AmazonS3Client CreateClient()
    {
        var config = new AmazonS3Config
        {
            ServiceURL = ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            // No checksum headers or trailers: s3rver 3.7.1 predates them.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 0,
        };
        return new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), config);
    }

    /// <summary>Creates a bucket.</summary>
    public async Task CreateBucketAsync(string name)
    {
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name }).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a bucket of a name not used before on this server, <paramref name="prefix"/> and a number, so that the
    /// tests of a class that share the server each have their own.
    /// </summary>
    public async Task<string> NewBucketAsync(string prefix)
    {
        var bucket = $"{prefix}-{Interlocked.Increment(ref _buckets)}";
        await CreateBucketAsync(bucket).ConfigureAwait(false);
        return bucket;
    }

    /// <summary>
    /// The AWS_* variables that point an SDK client, of this process or of a child, at this server: its credentials
    /// and us-east-1, and with <paramref name="endpoint"/> (this server's <see cref="ServiceUrl"/> or a proxy's) as
    /// the S3 endpoint. Null values remove a variable, so none of the machine's own settings gets in the way.
    /// </summary>
    public Dictionary<string, string?> AwsVariables(string? endpoint = null)
    {
        var variables = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_DEFAULT_REGION"] = null,
        };
        if (endpoint is not null)
        {
            variables["AWS_ENDPOINT_URL_S3"] = endpoint;
            variables["AWS_ENDPOINT_URL"] = null;
        }
        return variables;
    }

    /// <summary>
    /// Takes every source of credentials out of <paramref name="variables"/>: the keys, a profile, web identity,
    /// container credentials, the instance metadata service, and the shared files (named in
    /// <paramref name="folder"/>, where they do not exist). Returns <paramref name="variables"/>.
    /// </summary>
    public static Dictionary<string, string?> WithoutCredentials(Dictionary<string, string?> variables, string folder)
    {
        foreach (var name in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI" })
        {
            variables[name] = null;
        }
        variables["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(folder, "no-credentials");
        variables["AWS_CONFIG_FILE"] = Path.Combine(folder, "no-config");
        variables["AWS_EC2_METADATA_DISABLED"] = "true";
        return variables;
    }

    /// <summary>The SHA-256 (lowercase hex) of an object's bytes as the server returns them.</summary>
    public async Task<string> Sha256OfObjectAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        using var client = CreateClient();
        using var response = await client.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(response.ResponseStream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Stores an object, with user metadata (names without <c>x-amz-meta-</c>) if given.</summary>
    public async Task PutObjectAsync(string bucket, string key, byte[] content, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var client = CreateClient();
        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = new MemoryStream(content),
            UseChunkEncoding = false,
        };
        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
        {
            request.Metadata[name] = value;
        }
        await client.PutObjectAsync(request).ConfigureAwait(false);
    }

    /// <summary>
    /// The ids of the multipart uploads of <paramref name="bucket"/> that were initiated and neither
    /// completed nor aborted, read from s3rver's data folder since s3rver does not implement
    /// ListMultipartUploads.
    /// </summary>
    public IReadOnlyList<string> PendingMultipartUploads(string bucket)
    {
        // s3rver's filesystem store keeps each upload in <data>/<bucket>/._S3rver_uploads/<uploadId>/.
        var uploads = Path.Combine(DataDirectory, bucket, "._S3rver_uploads");
        return Directory.Exists(uploads)
            ? Directory.GetDirectories(uploads).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];
    }

    /// <summary>
    /// Waits until s3rver has logged a request that <paramref name="match"/> accepts (see
    /// <see cref="Requests"/> for the format) and returns it, or null after <paramref name="timeout"/>.
    /// s3rver logs a request just after it answers, so a client may see the answer first.
    /// </summary>
    public async Task<string?> WaitForRequestAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            if (_requests.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            if (elapsed.Elapsed >= timeout)
            {
                return null;
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until s3rver has logged <paramref name="count"/> requests that <paramref name="match"/>
    /// accepts; false after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitForRequestsAsync(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (_requests.Count(match) < count)
        {
            if (elapsed.Elapsed >= timeout)
            {
                return false;
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>
    /// Returns <see cref="Requests"/> once every request answered before this call is in it: sends a
    /// marker request and waits for its line, since s3rver logs in the order it answers.
    /// </summary>
    public async Task<IReadOnlyList<string>> SettledRequestsAsync()
    {
        var marker = $"snaploader-log-marker-{Guid.NewGuid():N}";
        using (var http = new HttpClient())
        {
            // Unsigned, so s3rver answers with an error; it logs it all the same.
            using var response = await http.GetAsync($"{ServiceUrl}/{marker}").ConfigureAwait(false);
        }
        if (await WaitForRequestAsync(line => line.Contains(marker, StringComparison.Ordinal), TimeSpan.FromSeconds(10)).ConfigureAwait(false) is null)
        {
            throw new InvalidOperationException($"s3rver did not log the marker request {marker}.");
        }
        return Requests.Where(line => !line.Contains("snaploader-log-marker-", StringComparison.Ordinal)).ToArray();
    }

    /// <summary>Kills s3rver with its child processes and removes its data folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The process never started.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder must not fail the test that used the server.
            }
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }
        line = AnsiEscape().Replace(line, "");
        _output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } listening)
        {
            _port.TrySetResult(int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (RequestLine().Match(line) is { Success: true } request)
        {
            _requests.Enqueue($"{request.Groups[1].Value} {request.Groups[2].Value} {request.Groups[3].Value}");
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex ListeningLine();

    // koa-logger's response line, after winston's level: "info: PUT /bucket/key?x=y 200 12ms 0b".
    [GeneratedRegex(@"^info: (GET|HEAD|PUT|POST|DELETE|OPTIONS) (\S+) (\d{3}) ")]
    private static partial Regex RequestLine();
}
