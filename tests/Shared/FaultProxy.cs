using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SnapLoader.Tests;

/// <summary>
/// An HTTP/1.1 proxy on 127.0.0.1 in front of a real server (s3rver) that injects the faults a test asks for
/// (<see cref="Inject"/>): an S3 error answer instead of the server's, or the server's answer with its body reset, cut
/// short or stalled after some bytes. Every request it received is in <see cref="Requests"/>, so a test can count
/// retries. Point a client at <see cref="ServiceUrl"/> with path-style addressing.
/// </summary>
/// <remarks>
/// Real sockets throughout, so the client's HTTP stack meets a real RST, a real early FIN and real silence. Each
/// forwarded request goes to the server on a new connection with <c>Connection: close</c> added (SigV4 does not sign
/// it, and the Host header is passed on unchanged, so signatures still match); the client's own connection stays open
/// between requests unless a fault ends it, as it would with S3.
/// </remarks>
internal sealed partial class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ProxiedRequest> _requests = new();
    private readonly ConcurrentDictionary<Socket, Task> _connections = new();
    private readonly List<FaultRule> _rules = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _accepting;

    private FaultProxy(Uri upstream)
    {
        _upstreamHost = upstream.Host;
        _upstreamPort = upstream.Port;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's endpoint, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string ServiceUrl { get; }

    /// <summary>Every request received so far, in order of arrival.</summary>
    public IReadOnlyList<ProxiedRequest> Requests => _requests.ToArray();

    /// <summary>Starts a proxy in front of <paramref name="upstreamUrl"/> (for example <see cref="S3rverServer.ServiceUrl"/>).</summary>
    public static FaultProxy Start(string upstreamUrl) => new(new Uri(upstreamUrl));

    /// <summary>The requests received for <paramref name="path"/> (<c>/bucket/key</c>) with <paramref name="method"/>.</summary>
    public IReadOnlyList<ProxiedRequest> RequestsFor(string path, string method = "GET") =>
        Requests.Where(r => r.Method == method && r.Path == path).ToArray();

    /// <summary>Adds a rule; rules are tried in the order added, and the first that claims a request applies.</summary>
    public FaultRule Inject(FaultRule rule)
    {
        lock (_rules)
        {
            _rules.Add(rule);
        }
        return rule;
    }

    /// <summary>Removes every rule and forgets the requests received, for the next test.</summary>
    public void Reset()
    {
        lock (_rules)
        {
            _rules.Clear();
        }
        _requests.Clear();
    }

    /// <summary>Stops listening, closes every connection (ending any stall) and waits for their tasks.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }
        try
        {
            await Task.WhenAll(_connections.Values.Append(_accepting)).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Connections end with whatever the closed socket makes them throw.
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            _connections[socket] = Task.Run(() => ServeAsync(socket));
        }
    }

    /// <summary>Answers the requests of one client connection until it closes or a fault ends it.</summary>
    private async Task ServeAsync(Socket socket)
    {
        var token = _stop.Token;
        try
        {
            await using var client = new NetworkStream(socket, ownsSocket: false);
            var reader = new HttpReader(client);
            while (await reader.ReadHeadAsync(token).ConfigureAwait(false) is { } head)
            {
                var at = _clock.Elapsed;
                var request = HttpHead.Parse(head);
                var body = new byte[request.ContentLength ?? 0];
                await reader.ReadExactlyAsync(body, token).ConfigureAwait(false);
                var path = request.Target.Split('?')[0];
                var (rangeStart, rangeEnd) = ParseRange(request.Header("Range"));
                var region = request.Header("Authorization") is { } authorization && CredentialScope().Match(authorization) is { Success: true } scope ? scope.Groups[1].Value : null;
                Fault? fault;
                lock (_rules)
                {
                    fault = _rules.FirstOrDefault(r => r.Claim(request.Method, path, rangeStart, rangeEnd))?.Fault;
                }
                void Log(int status) => _requests.Enqueue(new ProxiedRequest(at, request.Method, path, rangeStart, rangeEnd, region, status, fault));

                if (fault is { Kind: FaultKind.Answer })
                {
                    Log(fault.Status);
                    await AnswerAsync(client, request.Method, fault, token).ConfigureAwait(false);
                    continue;
                }
                if (!await ForwardAsync(socket, client, request, body, fault, Log, token).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The client went away, a fault ended the connection, or the proxy is stopping.
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    /// <summary>Answers with the fault's S3 error document, as S3 does: XML, with the bucket's region in a header when known.</summary>
    private static async Task AnswerAsync(NetworkStream client, string method, Fault fault, CancellationToken token)
    {
        var document = Encoding.UTF8.GetBytes(fault.ErrorDocument());
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {fault.Status} {(HttpStatusCode)fault.Status}\r\n")
            .Append("Content-Type: application/xml\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {document.Length}\r\n")
            .Append("x-amz-request-id: FAULTPROXY\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:R}\r\n");
        if (fault.Region is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"x-amz-bucket-region: {fault.Region}\r\n");
        }
        head.Append("\r\n");
        await client.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), token).ConfigureAwait(false);
        if (method != "HEAD")
        {
            await client.WriteAsync(document, token).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the request to the server and relays its answer, applying a body fault. Returns whether the client connection stays open.</summary>
    private async Task<bool> ForwardAsync(Socket socket, NetworkStream client, HttpHead request, byte[] body, Fault? fault, Action<int> log, CancellationToken token)
    {
        using var upstream = new TcpClient { NoDelay = true };
        await upstream.ConnectAsync(_upstreamHost, _upstreamPort, token).ConfigureAwait(false);
        var server = upstream.GetStream();
        var forwarded = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{request.Method} {request.Target} {request.Version}\r\n");
        foreach (var (name, value) in request.Headers.Where(h => !IsHopByHop(h.Name)))
        {
            forwarded.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        forwarded.Append("Connection: close\r\n\r\n");
        await server.WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()), token).ConfigureAwait(false);
        await server.WriteAsync(body, token).ConfigureAwait(false);

        var reader = new HttpReader(server);
        var head = await reader.ReadHeadAsync(token).ConfigureAwait(false) ?? throw new IOException("The server closed the connection without answering.");
        var response = HttpHead.Parse(head);
        var status = int.Parse(response.Target, CultureInfo.InvariantCulture);
        log(status);
        var hasBody = request.Method != "HEAD" && status is >= 200 and not 204 and not 304;
        var chunked = response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;
        // Without a length or chunks the body ends when the server closes: the client must see that close too.
        var untilClose = hasBody && response.ContentLength is null && !chunked;
        var relayed = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{response.Method} {response.Target} {response.Version}\r\n");
        foreach (var (name, value) in response.Headers.Where(h => !IsHopByHop(h.Name)))
        {
            relayed.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        relayed.Append(untilClose ? "Connection: close\r\n\r\n" : "\r\n");
        await client.WriteAsync(Encoding.ASCII.GetBytes(relayed.ToString()), token).ConfigureAwait(false);
        if (!hasBody)
        {
            return true;
        }

        var remaining = response.ContentLength ?? long.MaxValue;
        long sent = 0;
        var buffer = new byte[64 * 1024];
        while (remaining > 0)
        {
            var want = (int)Math.Min(buffer.Length, remaining);
            if (fault is not null && sent < fault.AfterBytes)
            {
                want = (int)Math.Min(want, fault.AfterBytes - sent);
            }
            else if (fault is not null)
            {
                switch (fault.Kind)
                {
                    case FaultKind.Reset:
                        // A moment for the bytes sent to reach the client before the RST, which would otherwise discard them.
                        await Task.Delay(50, token).ConfigureAwait(false);
                        socket.LingerState = new LingerOption(true, 0);
                        socket.Close();
                        return false;
                    case FaultKind.Truncate:
                        socket.Shutdown(SocketShutdown.Send);
                        return false;
                    case FaultKind.Stall:
                        await Task.Delay(fault.Duration, token).ConfigureAwait(false);
                        fault = null;
                        continue;
                }
            }
            var read = await reader.ReadAsync(buffer.AsMemory(0, want), token).ConfigureAwait(false);
            if (read == 0)
            {
                if (response.ContentLength is not null)
                {
                    throw new IOException("The server ended its body early.");
                }
                break;
            }
            await client.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
            sent += read;
            remaining -= read;
        }
        return !untilClose;
    }

    private static bool IsHopByHop(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase);

    private static (long? Start, long? End) ParseRange(string? range)
    {
        if (range is null || RangeHeader().Match(range) is not { Success: true } match)
        {
            return (null, null);
        }
        return (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^bytes=(\d+)-(\d+)$")]
    private static partial Regex RangeHeader();

    // SigV4: "Credential=AKID/20250101/us-east-1/s3/aws4_request".
    [GeneratedRegex(@"Credential=[^/]+/\d{8}/([^/]+)/")]
    private static partial Regex CredentialScope();

    /// <summary>A request or response head: its first line split in three, then its headers.</summary>
    private sealed record HttpHead(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers)
    {
        public long? ContentLength => Header("Content-Length") is { } value ? long.Parse(value, CultureInfo.InvariantCulture) : null;

        public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

        /// <summary>For a response, <see cref="Method"/> is the version, <see cref="Target"/> the status and <see cref="Version"/> the reason.</summary>
        public static HttpHead Parse(string head)
        {
            var lines = head.Split("\r\n");
            var first = lines[0].Split(' ', 3);
            if (first.Length < 2)
            {
                throw new InvalidDataException($"Not an HTTP head: '{lines[0]}'.");
            }
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2).Select(p => (p[0].Trim(), p[1].Trim())).ToArray();
            return new HttpHead(first[0], first[1], first.Length > 2 ? first[2] : "", headers);
        }
    }

    /// <summary>Reads heads up to their blank line, and then bodies, from one buffered stream.</summary>
    private sealed class HttpReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        /// <summary>The next head, or <see langword="null"/> when the stream ends between messages.</summary>
        public async Task<string?> ReadHeadAsync(CancellationToken token)
        {
            while (true)
            {
                var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
                if (at >= 0)
                {
                    var head = Encoding.ASCII.GetString(_buffer, _start, at);
                    _start += at + 4;
                    return head;
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    (_end, _start) = (_end - _start, 0);
                }
                if (_end == _buffer.Length)
                {
                    throw new InvalidDataException("An HTTP head longer than 64 KiB.");
                }
                var read = await stream.ReadAsync(_buffer.AsMemory(_end), token).ConfigureAwait(false);
                if (read == 0)
                {
                    return _end == _start ? null : throw new IOException("The stream ended inside an HTTP head.");
                }
                _end += read;
            }
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken token)
        {
            if (_end > _start)
            {
                var count = Math.Min(destination.Length, _end - _start);
                _buffer.AsMemory(_start, count).CopyTo(destination);
                _start += count;
                return count;
            }
            return await stream.ReadAsync(destination, token).ConfigureAwait(false);
        }

        public async Task ReadExactlyAsync(Memory<byte> destination, CancellationToken token)
        {
            while (destination.Length > 0)
            {
                var read = await ReadAsync(destination, token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("The stream ended inside a body.");
                }
                destination = destination[read..];
            }
        }
    }
}
