using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Crc32 = System.IO.Hashing.Crc32;

namespace SnapLoader.Runtime;

/// <summary>
/// Hashes decoded chunks and writes them into the entry's memory file on a second thread, so that one large entry
/// uses two cores: the decoder's, and this one's for SHA-256 (or, without a manifest, CRC-32) and pwrite (on the measuring machine zstd decodes
/// about 1.7 GB/s and SHA-256 runs about 2 GB/s, so doing both on one thread would nearly halve the rate). At most
/// <see cref="Capacity"/> chunks wait, each a pooled buffer that goes back to the pool once written.
/// </summary>
internal sealed class DecodedChunkSink : IAsyncDisposable
{
    private const int Capacity = 2;

    private readonly Channel<Chunk> _chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly MemoryFile _file;
    private readonly IncrementalHash? _sha;
    private readonly Crc32? _crc;
    private readonly LoadStatistics _statistics;
    private readonly CancellationTokenSource _stop;
    private readonly Task _consumer;

    public DecodedChunkSink(MemoryFile file, IncrementalHash? sha, Crc32? crc, LoadStatistics statistics, CancellationToken cancellationToken)
    {
        _statistics = statistics;
        _file = file;
        _sha = sha;
        _crc = crc;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _consumer = Task.Run(ConsumeAsync, CancellationToken.None);
    }

    /// <summary>Hands over <paramref name="buffer"/> (rented from <see cref="ArrayPool{T}.Shared"/>; the sink returns it) to be written at <paramref name="offset"/>.</summary>
    public async ValueTask PostAsync(byte[] buffer, long offset, int length)
    {
        try
        {
            await _chunks.Writer.WriteAsync(new Chunk(buffer, offset, length), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (_consumer.IsFaulted)
            {
                // The writer failed first: its error is the one that matters, not the cancellation it caused.
                await _consumer.ConfigureAwait(false);
            }
            throw;
        }
    }

    /// <summary>Waits until every posted chunk is hashed and written; throws the writer's error, if any.</summary>
    public async Task CompleteAsync()
    {
        _chunks.Writer.TryComplete();
        await _consumer.ConfigureAwait(false);
    }

    /// <summary>Stops the writer and waits for it, so nothing touches the memory file afterwards.</summary>
    public async ValueTask DisposeAsync()
    {
        _chunks.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            await _consumer.ConfigureAwait(false);
        }
        catch
        {
            // Reported by PostAsync or CompleteAsync, or an echo of the failure being handled.
        }
        while (_chunks.Reader.TryRead(out var left))
        {
            ArrayPool<byte>.Shared.Return(left.Buffer);
        }
        _stop.Dispose();
    }

    private async Task ConsumeAsync()
    {
        try
        {
            while (await _chunks.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (_chunks.Reader.TryRead(out var chunk))
                {
                    try
                    {
                        Write(chunk);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk.Buffer);
                    }
                }
            }
        }
        catch
        {
            _stop.Cancel();
            throw;
        }
    }

    private void Write(Chunk chunk)
    {
        var data = chunk.Buffer.AsSpan(0, chunk.Length);
        var started = Stopwatch.GetTimestamp();
        _sha?.AppendData(data);
        _crc?.Append(data);
        var hashed = Stopwatch.GetTimestamp();
        _file.Write(chunk.Offset, data);
        _statistics.AddVerify(data.Length, hashed - started);
        _statistics.AddWrite(Stopwatch.GetTimestamp() - hashed);
    }

    private readonly record struct Chunk(byte[] Buffer, long Offset, int Length);
}
