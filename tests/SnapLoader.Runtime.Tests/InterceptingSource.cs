namespace SnapLoader.Runtime.Tests;

/// <summary>Wraps a source to fail or cancel partway through a load.</summary>
internal sealed class InterceptingSource(IArchiveSource inner, Func<long, long, Task>? onOpenRange = null) : IArchiveSource
{
    private int _opens;

    public int RangeOpens => Volatile.Read(ref _opens);

    public string Description => inner.Description;

    public ValueTask<long> GetLengthAsync(CancellationToken cancellationToken) => inner.GetLengthAsync(cancellationToken);

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) => inner.ReadAsync(offset, destination, cancellationToken);

    public async Task<Stream> OpenRangeAsync(long offset, long length, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _opens);
        if (onOpenRange is not null)
        {
            await onOpenRange(offset, length);
        }
        return await inner.OpenRangeAsync(offset, length, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
