namespace SnapLoader.Runtime;

/// <summary>
/// The zstd decoder of one load: the system's libzstd when it is installed and 1.4.0 or newer (native code at full
/// speed from the first byte), else ZstdSharp (managed, about half as fast in a fresh process, where its loop runs as
/// unoptimised JIT code). <c>SNAPLOADER_ZSTD=system</c> or <c>managed</c> chooses one; the choice is logged when it
/// differs from the last load's, so once per process in practice.
/// </summary>
internal sealed class ZstdDecoders : IDisposable
{
    /// <summary>The variable that chooses the decoder: <c>system</c>, <c>managed</c>, or unset for the faster one there is.</summary>
    public const string Variable = "SNAPLOADER_ZSTD";

    private static string? s_logged;
    private readonly SystemZstd? _system;

    private ZstdDecoders(SystemZstd? system, string description)
    {
        _system = system;
        Description = description;
    }

    /// <summary>Which decoder, and why: for the log.</summary>
    public string Description { get; }

    /// <summary>Whether the system's libzstd decodes.</summary>
    public bool IsSystem => _system is not null;

    /// <summary>The decoder <see cref="Variable"/> asks for, or the faster one there is.</summary>
    public static ZstdDecoders Open() => Open(Environment.GetEnvironmentVariable(Variable));

    /// <param name="setting">The value of <see cref="Variable"/>.</param>
    /// <param name="libraryName">The system's library: <see cref="SystemZstd.LibraryName"/> but in tests.</param>
    internal static ZstdDecoders Open(string? setting, string libraryName = SystemZstd.LibraryName)
    {
        ZstdDecoders decoders;
        var asked = setting?.Trim().ToLowerInvariant();
        switch (asked)
        {
            case "managed":
                decoders = new ZstdDecoders(null, $"ZstdSharp, managed ({Variable}=managed)");
                break;
            case null or "" or "system":
                var system = SystemZstd.TryLoad(libraryName, out var whyNot);
                decoders = system is not null
                    ? new ZstdDecoders(system, $"the system's libzstd {system.VersionText} ({libraryName})")
                    : new ZstdDecoders(null, $"ZstdSharp, managed ({whyNot})");
                if (system is null && asked == "system")
                {
                    LambdaLog.Warn($"{Variable}={setting}, but {whyNot}: ZstdSharp decodes instead.");
                }
                break;
            default:
                LambdaLog.Warn($"{Variable}={setting} is neither 'system' nor 'managed': the faster decoder there is decodes.");
                return Open(null, libraryName);
        }
        if (Interlocked.Exchange(ref s_logged, decoders.Description) != decoders.Description)
        {
            LambdaLog.Info($"zstd: {decoders.Description}");
        }
        return decoders;
    }

    /// <summary>A stream of what <paramref name="compressed"/> decodes to; it leaves <paramref name="compressed"/> open.</summary>
    public Stream Create(Stream compressed) => _system is not null
        ? new SystemZstdStream(_system, compressed, LoaderSettings.ChunkSize)
        : new ZstdSharp.DecompressionStream(compressed, bufferSize: LoaderSettings.ChunkSize, checkEndOfStream: true, leaveOpen: true);

    /// <summary>Releases the system's libzstd; every stream made by <see cref="Create"/> must be disposed first.</summary>
    public void Dispose() => _system?.Dispose();
}
