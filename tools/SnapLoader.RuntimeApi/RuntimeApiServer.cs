using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SnapLoader.RuntimeApi;

/// <summary>
/// The Lambda Runtime API (version 2018-06-01) as the Lambda service speaks it to a runtime: invocation/next with its
/// headers, the response and error reports, init/error, and SnapStart's restore/next and restore/error. It hands out
/// the events it was given, one per invocation/next, and records every call. When no event is left, the next
/// invocation/next is held open, as Lambda holds it while the environment waits, and <see cref="Idle"/> completes.
/// </summary>
public sealed class RuntimeApiServer : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01";

    private readonly WebApplication _app;
    private readonly Queue<byte[]> _events;
    private readonly List<RuntimeApiCall> _calls = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _functionName;
    private readonly TimeSpan _timeout;
    private int _invocation;

    private RuntimeApiServer(WebApplication app, IEnumerable<byte[]> events, string functionName, TimeSpan timeout)
    {
        _app = app;
        _events = new Queue<byte[]>(events);
        _functionName = functionName;
        _timeout = timeout;
    }

    /// <summary>host:port, the value of <c>AWS_LAMBDA_RUNTIME_API</c>.</summary>
    public string Address { get; private set; } = "";

    /// <summary>Completes when the runtime asks for an event after the last one; <see cref="OnIdle"/> has run by then.</summary>
    public Task Idle => _idle.Task;

    /// <summary>Runs when the runtime waits for an event after the last one, while the request is held.</summary>
    public Action? OnIdle { get; set; }

    /// <summary>
    /// Runs while restore/next is held, before the restored environment gets its answer: what may happen to the
    /// environment while its snapshot waits (a test changes it there).
    /// </summary>
    public Func<Task>? BeforeRestore { get; set; }

    /// <summary>Called for each request as it arrives, for a log.</summary>
    public Action<RuntimeApiCall>? OnCall { get; set; }

    /// <summary>Every call so far, in order.</summary>
    public IReadOnlyList<RuntimeApiCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToList();
            }
        }
    }

    /// <summary>Restarts the clock the calls' times count from (when the runtime process starts).</summary>
    public void RestartClock() => _clock.Restart();

    /// <summary>Starts a server on 127.0.0.1 with a free port.</summary>
    /// <param name="events">The event of each invocation, in order.</param>
    /// <param name="functionName">The function's name, for the invoked ARN.</param>
    /// <param name="timeout">The function's timeout, for each invocation's deadline.</param>
    public static async Task<RuntimeApiServer> StartAsync(IEnumerable<byte[]> events, string functionName, TimeSpan timeout)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new RuntimeApiServer(app, events, functionName, timeout);
        server.Map(app);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Address = new Uri(url).Authority;
        return server;
    }

    private void Map(WebApplication app)
    {
        app.MapGet(Prefix + "/runtime/invocation/next", NextAsync);
        app.MapPost(Prefix + "/runtime/invocation/{id}/response", (HttpContext context, string id) => RecordAsync(context, id, StatusCodes.Status202Accepted));
        app.MapPost(Prefix + "/runtime/invocation/{id}/error", (HttpContext context, string id) => RecordAsync(context, id, StatusCodes.Status202Accepted));
        app.MapPost(Prefix + "/runtime/init/error", (HttpContext context) => RecordAsync(context, null, StatusCodes.Status202Accepted));
        // The snapshot is taken while this request waits; a restored environment gets its answer.
        app.MapGet(Prefix + "/runtime/restore/next", async (HttpContext context) =>
        {
            Record(context, null, null);
            if (BeforeRestore is { } beforeRestore)
            {
                await beforeRestore();
            }
        });
        app.MapPost(Prefix + "/runtime/restore/error", (HttpContext context) => RecordAsync(context, null, StatusCodes.Status202Accepted));
        app.MapFallback(async (HttpContext context) =>
        {
            await RecordAsync(context, null, StatusCodes.Status404NotFound);
        });
    }

    private async Task NextAsync(HttpContext context)
    {
        byte[]? body;
        string? id = null;
        lock (_events)
        {
            body = _events.Count > 0 ? _events.Dequeue() : null;
            if (body is not null)
            {
                _invocation++;
                id = $"00000000-0000-4000-8000-{_invocation:D12}";
            }
        }
        Record(context, id, null);
        if (body is null)
        {
            OnIdle?.Invoke();
            _idle.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        var headers = context.Response.Headers;
        headers["Lambda-Runtime-Aws-Request-Id"] = id;
        headers["Lambda-Runtime-Deadline-Ms"] = (DateTimeOffset.UtcNow + _timeout).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        headers["Lambda-Runtime-Invoked-Function-Arn"] = $"arn:aws:lambda:us-east-1:123456789012:function:{_functionName}";
        headers["Lambda-Runtime-Trace-Id"] = $"Root=1-00000000-{_invocation:D24};Parent=0000000000000000;Sampled=0";
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body);
    }

    private async Task RecordAsync(HttpContext context, string? id, int status)
    {
        string? body = null;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            using var reader = new StreamReader(context.Request.Body);
            body = await reader.ReadToEndAsync();
        }
        Record(context, id, body);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status202Accepted)
        {
            await context.Response.WriteAsync("""{"status":"OK"}""");
        }
    }

    private void Record(HttpContext context, string? id, string? body)
    {
        var path = context.Request.Path.Value ?? "";
        var call = new RuntimeApiCall(context.Request.Method, path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..] : path,
            _clock.ElapsedMilliseconds, DateTimeOffset.UtcNow, id, context.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault(), body);
        lock (_calls)
        {
            _calls.Add(call);
        }
        OnCall?.Invoke(call);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
