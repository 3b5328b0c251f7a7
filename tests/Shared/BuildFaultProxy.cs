using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SnapLoader.Tests;

/// <summary>
/// An HTTP/1.1 proxy on 127.0.0.1 in front of an S3-compatible server (s3rver) that injects the faults
/// s3rver cannot produce: its rule picks requests to answer with S3 errors (a bucket in another region,
/// an expired session) or whose answer to lose after the server acted on them. Every other request is
/// forwarded unchanged, so SigV4 signatures (which cover the Host header) still verify.
/// </summary>
/// <remarks>
/// A plain <see cref="TcpListener"/> rather than an HTTP server: losing an answer means closing the
/// connection after the server handled the request, which HTTP server frameworks do not let a handler
/// do. Each forwarded request goes upstream with <c>Connection: close</c>, so a connection carries one
/// request, the server's answer tells the client to open a new one, and the proxy never has to find
/// where an answer ends. Bodies must come with Content-Length (the uploader sends no aws-chunked bodies
/// to a custom endpoint).
/// </remarks>
internal sealed class BuildFaultProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 64 * 1024;

    private readonly TcpListener _listener;
    private readonly DnsEndPoint _upstream;
    private readonly Func<BuildFaultRequest, Task<BuildFault?>> _rule;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly Task _acceptLoop;

    private BuildFaultProxy(TcpListener listener, DnsEndPoint upstream, Func<BuildFaultRequest, Task<BuildFault?>> rule)
    {
        _listener = listener;
        _upstream = upstream;
        _rule = rule;
        ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The proxy's endpoint, such as <c>http://127.0.0.1:41235</c>; use it as the S3 service URL.</summary>
    public string ServiceUrl { get; }

    /// <summary>
    /// Every request the proxy received, in order, as <c>METHOD /target -&gt; what</c>, where what is
    /// <c>forwarded</c>, <c>answered 301</c>, <c>answer lost</c> or <c>reset</c>.
    /// </summary>
    public IReadOnlyList<string> Log => _log.ToArray();

    /// <summary>
    /// Starts a proxy to <paramref name="upstreamUrl"/> (an <c>http://host:port</c> URL) on a port the OS
    /// picks. <paramref name="rule"/> sees every request, from several threads at once, and returns the
    /// fault to inject or null to forward it.
    /// </summary>
    public static BuildFaultProxy Start(string upstreamUrl, Func<BuildFaultRequest, BuildFault?> rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return StartHolding(upstreamUrl, request => Task.FromResult(rule(request)));
    }

    /// <summary>
    /// As <see cref="Start"/>, with a rule that may hold a request back (await something) before it
    /// decides, without tying up a thread the server's own output may need.
    /// </summary>
    public static BuildFaultProxy StartHolding(string upstreamUrl, Func<BuildFaultRequest, Task<BuildFault?>> rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var upstream = new Uri(upstreamUrl);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new BuildFaultProxy(listener, new DnsEndPoint(upstream.Host, upstream.Port), rule);
    }

    /// <summary>Stops listening and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await Task.WhenAll(_connections.Keys.Append(_acceptLoop)).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var connection = ServeAsync(client);
            _connections[connection] = true;
            _ = connection.ContinueWith(done => _connections.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                if (await ReadHeadAsync(stream).ConfigureAwait(false) is not { } head)
                {
                    return;
                }
                switch (await _rule(head.Request).ConfigureAwait(false))
                {
                    case BuildFault.Answer answer:
                        _log.Enqueue($"{head.Request} -> answered {answer.Status}");
                        await AnswerAsync(stream, head, answer).ConfigureAwait(false);
                        break;
                    case BuildFault.Reset:
                        _log.Enqueue($"{head.Request} -> reset");
                        await DiscardAsync(stream, head.ContentLength - head.BodyStart.Length).ConfigureAwait(false);
                        client.Client.LingerState = new LingerOption(enable: true, seconds: 0);
                        break;
                    case BuildFault.LoseAnswer:
                        await ForwardAsync(client, head, loseAnswer: true).ConfigureAwait(false);
                        _log.Enqueue($"{head.Request} -> answer lost");
                        break;
                    default:
                        _log.Enqueue($"{head.Request} -> forwarded");
                        await ForwardAsync(client, head, loseAnswer: false).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client or the server went away (the tests kill both on purpose); nothing to report.
            }
        }
    }

    /// <summary>Sends <paramref name="answer"/> without forwarding, after reading the request's body.</summary>
    private async Task AnswerAsync(NetworkStream stream, RequestHead head, BuildFault.Answer answer)
    {
        // A client that waits for 100 Continue gets the final answer instead and sends no body (RFC 9110
        // 10.1.1); any other body is read, so that closing does not reset the connection under the answer.
        if (!head.Request.Headers.TryGetValue("Expect", out var expect) || !expect.Contains("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            await DiscardAsync(stream, head.ContentLength - head.BodyStart.Length).ConfigureAwait(false);
        }
        var body = head.Request.Method == "HEAD" ? [] : Encoding.UTF8.GetBytes(answer.XmlBody);
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {answer.Status} {answer.Reason}\r\n");
        foreach (var (name, value) in answer.Headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()), _stop.Token).ConfigureAwait(false);
        await stream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
        await stream.FlushAsync(_stop.Token).ConfigureAwait(false);
    }

    private async Task ForwardAsync(TcpClient client, RequestHead head, bool loseAnswer)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token).ConfigureAwait(false);
        var server = upstream.GetStream();
        await server.WriteAsync(head.UpstreamHead, _stop.Token).ConfigureAwait(false);
        await server.WriteAsync(head.BodyStart, _stop.Token).ConfigureAwait(false);

        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var clientStream = client.GetStream();
        var toServer = PumpAsync(clientStream, server, done.Token);
        // The server closes once it has answered (Connection: close), which ends this copy.
        await server.CopyToAsync(loseAnswer ? Stream.Null : clientStream, _stop.Token).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        await toServer.ConfigureAwait(false);
        if (loseAnswer)
        {
            // A reset rather than a close, as when a connection dies: the client gets no answer at all.
            client.Client.LingerState = new LingerOption(enable: true, seconds: 0);
        }
    }

    private static async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Ends when the answer is through or either side closes.
        }
    }

    private async Task DiscardAsync(Stream stream, long count)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), _stop.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }
            count -= read;
        }
    }

    /// <summary>Reads up to the blank line after the headers; null if the client closed first.</summary>
    private async Task<RequestHead?> ReadHeadAsync(Stream stream)
    {
        var buffer = new byte[MaxHeadBytes];
        var filled = 0;
        while (true)
        {
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return RequestHead.Parse(buffer.AsSpan(0, end + 4), buffer.AsSpan(end + 4, filled - end - 4));
            }
            if (filled == buffer.Length)
            {
                throw new IOException($"A request head longer than {MaxHeadBytes} bytes.");
            }
            var read = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }
            filled += read;
        }
    }

    /// <summary>A parsed request head, the head to send upstream, and the body bytes read with it.</summary>
    private sealed record RequestHead(BuildFaultRequest Request, long ContentLength, byte[] UpstreamHead, byte[] BodyStart)
    {
        public static RequestHead Parse(ReadOnlySpan<byte> head, ReadOnlySpan<byte> bodyStart)
        {
            var lines = Encoding.ASCII.GetString(head).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var requestLine = lines[0].Split(' ');
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var upstream = new StringBuilder(lines[0]).Append("\r\n");
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon].Trim();
                headers[name] = line[(colon + 1)..].Trim();
                if (!name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && !name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
                {
                    upstream.Append(line).Append("\r\n");
                }
            }
            upstream.Append("Connection: close\r\n\r\n");
            var contentLength = headers.TryGetValue("Content-Length", out var length) ? long.Parse(length, CultureInfo.InvariantCulture) : 0;
            return new RequestHead(
                new BuildFaultRequest(requestLine[0], requestLine[1], headers),
                contentLength,
                Encoding.ASCII.GetBytes(upstream.ToString()),
                bodyStart.ToArray());
        }
    }
}
