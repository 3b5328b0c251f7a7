using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SnapLoader.Benchmarks.Load;

/// <summary>
/// A TCP proxy in front of s3rver that lets each connection receive at most a fixed rate, as S3 does (about 85-90 MB/s
/// per connection). On loopback a single GET is as fast as many, which hides the one thing the whole-object baseline
/// gets wrong; through this proxy a single stream costs what it costs against S3, and parallel ranges pay off as they do there.
/// </summary>
internal sealed class ThrottlingProxy : IAsyncDisposable
{
    // Enough for a TCP window's worth of burst; small enough that a connection cannot bank idle time.
    private const double BurstBytes = 256 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly DnsEndPoint _upstream;
    private readonly double _bytesPerSecond;
    private Task _accepting = Task.CompletedTask;

    private ThrottlingProxy(Uri upstream, double bytesPerSecond)
    {
        _upstream = new DnsEndPoint(upstream.Host, upstream.Port);
        _bytesPerSecond = bytesPerSecond;
    }

    public string ServiceUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public static ThrottlingProxy Start(string upstreamUrl, double bytesPerSecond)
    {
        var proxy = new ThrottlingProxy(new Uri(upstreamUrl), bytesPerSecond);
        proxy._listener.Start();
        proxy._accepting = proxy.AcceptAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient { NoDelay = true })
        {
            try
            {
                client.NoDelay = true;
                await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token).ConfigureAwait(false);
                var requests = PumpAsync(client.GetStream(), server.GetStream(), double.PositiveInfinity);
                var responses = PumpAsync(server.GetStream(), client.GetStream(), _bytesPerSecond);
                // Either side closing ends the connection; the SDK opens a new one when it needs it.
                await Task.WhenAny(requests, responses).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    // A token bucket: each byte passed costs 1/rate seconds, paid by waiting once the burst allowance is spent.
    private async Task PumpAsync(Stream from, Stream to, double bytesPerSecond)
    {
        var buffer = new byte[64 * 1024];
        var tokens = BurstBytes;
        var last = Stopwatch.GetTimestamp();
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token).ConfigureAwait(false);
            if (double.IsPositiveInfinity(bytesPerSecond))
            {
                continue;
            }
            var now = Stopwatch.GetTimestamp();
            tokens = Math.Min(BurstBytes, tokens + bytesPerSecond * Stopwatch.GetElapsedTime(last, now).TotalSeconds) - read;
            last = now;
            if (tokens < 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(-tokens / bytesPerSecond), _stop.Token).ConfigureAwait(false);
            }
        }
    }
}
