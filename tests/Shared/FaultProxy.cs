using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SnapLoader.Tests;

/// <summary>
/// An HTTP/1.1 proxy on 127.0.0.1 in front of a real server (s3rver) that injects the faults s3rver cannot produce,
/// as its <see cref="FaultRule"/>s ask: an S3 error answer instead of the server's (a bucket in another region, an
/// expired session, throttling); a request dropped, or its answer lost after the server acted on it; the server's
/// answer with its body reset, cut short or stalled after some bytes; or a request held back until the test lets it
/// go. Every request it received is in <see cref="Requests"/>, so a test can count retries. Point a client at
/// <see cref="ServiceUrl"/> with path-style addressing.
/// </summary>
/// <remarks>
/// Real sockets throughout, so the client's HTTP stack meets a real RST, a real early FIN and real silence; an HTTP
/// server framework would not let a handler close a connection after the server handled its request. Each forwarded
/// request goes to the server on a new connection with <c>Connection: close</c> added (SigV4 does not sign it, and
/// the Host header is passed on unchanged, so signatures still match); the client's own connection stays open between
/// requests unless a fault ends it, as it would with S3. Request bodies must come with a Content-Length (the SDK
/// sends no chunked bodies to a custom endpoint).
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

    /// <summary>Every request received so far, in the order they were answered.</summary>
    public IReadOnlyList<ProxiedRequest> Requests => _requests.ToArray();

    /// <summary>
    /// Starts a proxy in front of <paramref name="upstreamUrl"/> (for example <see cref="S3rverServer.ServiceUrl"/>)
    /// with <paramref name="rules"/>, as if each were given to <see cref="Inject"/>.
    /// </summary>
    public static FaultProxy Start(string upstreamUrl, params FaultRule[] rules)
    {
        var proxy = new FaultProxy(new Uri(upstreamUrl));
        foreach (var rule in rules)
        {
            proxy.Inject(rule);
        }
        return proxy;
    }

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

    /// <summary>Stops listening, closes every connection (ending any stall or hold) and waits for their tasks.</summary>
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
                if (request.HeaderHas("Transfer-Encoding", "chunked"))
                {
                    throw new InvalidDataException("The proxy takes request bodies with a Content-Length only.");
                }
                var (rangeStart, rangeEnd) = ParseRange(request.Header("Range"));
                var region = request.Header("Authorization") is { } authorization && CredentialScope().Match(authorization) is { Success: true } scope ? scope.Groups[1].Value : null;
                var received = new ProxiedRequest(at, request.Method, request.Target, rangeStart, rangeEnd, region);
                Fault? fault;
                lock (_rules)
                {
                    fault = _rules.FirstOrDefault(r => r.Claim(received))?.Fault;
                }
                received = received with { Fault = fault };
                void Log(int status) => _requests.Enqueue(received with { Status = status });

                // A client that waits for 100 Continue and gets a final answer instead sends no body (RFC 9110 10.1.1),
                // or sends it after all: its connection can carry no further request.
                var waitsToSendBody = request.HeaderHas("Expect", "100-continue");
                var bodyLength = request.ContentLength ?? 0;
                switch (fault?.Kind)
                {
                    case FaultKind.Answer:
                        Log(fault.Status);
                        if (!waitsToSendBody)
                        {
                            await reader.CopyAsync(null, bodyLength, token).ConfigureAwait(false);
                        }
                        await AnswerAsync(client, request.Method, received.Bucket, fault, close: waitsToSendBody, token).ConfigureAwait(false);
                        if (waitsToSendBody)
                        {
                            return;
                        }
                        continue;
                    case FaultKind.DropRequest:
                        Log(0);
                        // The whole request first, as when a connection dies once the request has left the client.
                        if (!waitsToSendBody)
                        {
                            await reader.CopyAsync(null, bodyLength, token).ConfigureAwait(false);
                        }
                        ResetConnection(socket);
                        return;
                    case FaultKind.Hold:
                        await fault.Until!(received).WaitAsync(token).ConfigureAwait(false);
                        break;
                }
                if (!await ForwardAsync(socket, client, reader, request, bodyLength, fault, Log, token).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The client or the server went away (tests kill both on purpose), a fault ended the connection, or the
            // proxy is stopping.
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    /// <summary>Answers with the fault's S3 error document, as S3 does: XML, with the bucket's region in a header when known.</summary>
    private static async Task AnswerAsync(NetworkStream client, string method, string bucket, Fault fault, bool close, CancellationToken token)
    {
        var document = Encoding.UTF8.GetBytes(fault.ErrorDocument(bucket));
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {fault.Status} {fault.Reason}\r\n")
            .Append("Content-Type: application/xml\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {document.Length}\r\n")
            .Append("x-amz-request-id: FAULTPROXY\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:R}\r\n");
        if (fault.Region is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"x-amz-bucket-region: {fault.Region}\r\n");
        }
        head.Append(close ? "Connection: close\r\n\r\n" : "\r\n");
        await client.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), token).ConfigureAwait(false);
        // S3 sends no body to a HEAD, so its error code is lost.
        if (method != "HEAD")
        {
            await client.WriteAsync(document, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends the request to the server and relays its answer, applying the fault on the way back. Returns whether the
    /// client connection stays open.
    /// </summary>
    private async Task<bool> ForwardAsync(Socket socket, NetworkStream client, HttpReader reader, HttpHead request, long bodyLength, Fault? fault,
        Action<int> log, CancellationToken token)
    {
        using var upstream = new TcpClient { NoDelay = true };
        await upstream.ConnectAsync(_upstreamHost, _upstreamPort, token).ConfigureAwait(false);
        var server = upstream.GetStream();
        var forwarded = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{request.Method} {request.Target} {request.Version}\r\n");
        AppendEndToEnd(forwarded, request).Append("Connection: close\r\n\r\n");
        await server.WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()), token).ConfigureAwait(false);

        // The body goes up while the answer comes down: a client that waits for 100 Continue sends it only once the
        // server's 100 has come through.
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(token);
        var body = reader.CopyAsync(server, bodyLength, sending.Token);
        try
        {
            var serverReader = new HttpReader(server);
            HttpHead response;
            while (true)
            {
                var head = await serverReader.ReadHeadAsync(token).ConfigureAwait(false) ?? throw new IOException("The server closed the connection without answering.");
                response = HttpHead.Parse(head);
                if (response.Status is < 100 or >= 200)
                {
                    break;
                }
                await client.WriteAsync(Encoding.ASCII.GetBytes(head + "\r\n\r\n"), token).ConfigureAwait(false);
            }
            var status = response.Status;
            log(status);

            if (fault is { Kind: FaultKind.LoseAnswer })
            {
                await serverReader.DrainAsync(token).ConfigureAwait(false);
                await body.ConfigureAwait(false);
                ResetConnection(socket);
                return false;
            }

            // An answer that came before the whole body (an error the server gives early) leaves the rest of the body
            // on the client connection, which then carries no further request.
            if (!body.IsCompleted)
            {
                await Task.WhenAny(body, Task.Delay(100, token)).ConfigureAwait(false);
            }
            var bodySent = body.IsCompletedSuccessfully;
            var hasBody = request.Method != "HEAD" && status is >= 200 and not 204 and not 304;
            var chunked = response.HeaderHas("Transfer-Encoding", "chunked");
            // Without a length or chunks the body ends when the server closes: the client must see that close too.
            var untilClose = hasBody && response.ContentLength is null && !chunked;
            var keepOpen = bodySent && !untilClose;
            var relayed = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{response.Method} {response.Target} {response.Version}\r\n");
            AppendEndToEnd(relayed, response).Append(keepOpen ? "\r\n" : "Connection: close\r\n\r\n");
            await client.WriteAsync(Encoding.ASCII.GetBytes(relayed.ToString()), token).ConfigureAwait(false);
            if (hasBody)
            {
                await RelayBodyAsync(socket, client, serverReader, response.ContentLength, fault, token).ConfigureAwait(false);
            }
            return keepOpen;
        }
        finally
        {
            await sending.CancelAsync().ConfigureAwait(false);
            try
            {
                await body.ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The body was cut off by the answer, or by the fault.
            }
        }
    }

    /// <summary>
    /// Relays the answer's body, <paramref name="length"/> bytes or up to the server's close, applying a body fault;
    /// throws once a fault ended the connection.
    /// </summary>
    private static async Task RelayBodyAsync(Socket socket, NetworkStream client, HttpReader server, long? length, Fault? fault, CancellationToken token)
    {
        var remaining = length ?? long.MaxValue;
        long sent = 0;
        var buffer = new byte[64 * 1024];
        var bodyFault = fault is { Kind: FaultKind.Reset or FaultKind.Truncate or FaultKind.Stall } ? fault : null;
        while (remaining > 0)
        {
            var want = (int)Math.Min(buffer.Length, remaining);
            if (bodyFault is not null && sent < bodyFault.AfterBytes)
            {
                want = (int)Math.Min(want, bodyFault.AfterBytes - sent);
            }
            else if (bodyFault is not null)
            {
                switch (bodyFault.Kind)
                {
                    case FaultKind.Reset:
                        // A moment for the bytes sent to reach the client before the RST, which would otherwise discard them.
                        await Task.Delay(50, token).ConfigureAwait(false);
                        ResetConnection(socket);
                        throw new IOException("The fault reset the connection.");
                    case FaultKind.Truncate:
                        socket.Shutdown(SocketShutdown.Send);
                        throw new IOException("The fault cut the body short.");
                    case FaultKind.Stall:
                        await Task.Delay(bodyFault.Duration, token).ConfigureAwait(false);
                        bodyFault = null;
                        continue;
                }
            }
            var read = await server.ReadAsync(buffer.AsMemory(0, want), token).ConfigureAwait(false);
            if (read == 0)
            {
                if (length is not null)
                {
                    throw new IOException("The server ended its body early.");
                }
                break;
            }
            await client.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
            sent += read;
            remaining -= read;
        }
    }

    /// <summary>Closes with a reset (RST) rather than a FIN, as when a connection dies: the client gets nothing more.</summary>
    private static void ResetConnection(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>The headers of <paramref name="head"/> without the hop-by-hop ones, which each connection sets for itself.</summary>
    private static StringBuilder AppendEndToEnd(StringBuilder text, HttpHead head)
    {
        foreach (var (name, value) in head.Headers.Where(h => !IsHopByHop(h.Name)))
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        return text;
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
}
