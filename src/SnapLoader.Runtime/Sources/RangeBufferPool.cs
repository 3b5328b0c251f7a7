using System.Collections.Concurrent;

namespace SnapLoader.Runtime;

/// <summary>
/// The buffers that prefetched ranges land in, one pool per load. Not <see cref="System.Buffers.ArrayPool{T}.Shared"/>:
/// its per-thread slots keep a returned buffer out of reach of other threads, so fetches that start on pool threads
/// allocated more buffers than ranges in flight, and the shared pool would keep tens of MiB alive after init (and in a
/// SnapStart snapshot). Here every buffer is exactly one range long, at most one exists per fetch slot, and all become
/// garbage when the load ends.
/// </summary>
internal sealed class RangeBufferPool(int bufferSize)
{
    private readonly ConcurrentBag<byte[]> _free = new();

    public int BufferSize => bufferSize;

    public byte[] Rent() => _free.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(bufferSize);

    public void Return(byte[] buffer) => _free.Add(buffer);
}
