using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// The work a packing worker does. Each job streams its range through one pooled buffer, so memory
/// is a buffer plus the compressor's own state per busy worker, whatever the file sizes.
/// </summary>
internal static class PackingJobs
{
    /// <summary>Computes SHA-256 and CRC-32 of a whole source file.</summary>
    public static void Hash(PlannedEntry entry, PackingContext context, bool countsProgress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(context.Settings.BufferSize);
        try
        {
            ReadAndHash(entry, context, buffer, read =>
            {
                if (countsProgress)
                {
                    context.Progress.Add(read);
                }
            }, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the whole source through <paramref name="buffer"/>, hashing every chunk and handing its length to
    /// <paramref name="onChunk"/> while the chunk is still in the buffer; records SHA-256 and CRC-32 on the entry.
    /// </summary>
    private static void ReadAndHash(PlannedEntry entry, PackingContext context, byte[] buffer, Action<int> onChunk, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var reader = SourceReader.Open(entry.Input.SourcePath, entry.Input.EntryName, 0, entry.Size);
        var crc = new System.IO.Hashing.Crc32();
        int read;
        while ((read = reader.Read(buffer.AsSpan(0, context.Settings.BufferSize))) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = buffer.AsSpan(0, read);
            sha256.AppendData(chunk);
            crc.Append(chunk);
            onChunk(read);
        }
        reader.EnsureAtEndOfFile();
        entry.Crc32 = crc.GetCurrentHashAsUInt32();
        entry.Sha256 = sha256.GetHashAndReset();
    }

    /// <summary>
    /// Hashes a whole file and compresses it into one zstd frame in the same pass. The frame header
    /// carries the content size (pledged up front), so a reader can size its memory file before decoding.
    /// </summary>
    public static void HashAndCompressZstd(PlannedEntry entry, PackingContext context, CancellationToken cancellationToken)
    {
        using var part = context.CreatePart(entry.PartPaths[0]);
        using var compressor = new Compressor(context.Level);
        var buffer = ArrayPool<byte>.Shared.Rent(context.Settings.BufferSize);
        CompressionStream? zstd = null;
        try
        {
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1);
            compressor.SetPledgedSrcSize((ulong)entry.Size);
            zstd = new CompressionStream(part, compressor, bufferSize: 0, preserveCompressor: true, leaveOpen: true);

            var frame = zstd;
            ReadAndHash(entry, context, buffer, read =>
            {
                WriteToPart(context, () => frame.Write(buffer, 0, read));
                context.Progress.Add(read);
            }, cancellationToken);

            // Disposing the stream ends the frame (and waits for zstd's workers).
            WriteToPart(context, zstd.Dispose);
        }
        catch
        {
            // Free the context first: ending a frame that will never be used would only burn time
            // (and could throw again over the real error).
            compressor.Dispose();
            DisposeQuietly(zstd);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Compresses frame <paramref name="piece"/> of a file (<see cref="ArchiveWriterSettings.ZstdFrameSize"/> bytes of
    /// it) into one independent zstd frame with its content size in the header. The writer joins the frames in order
    /// and appends the seek table.
    /// </summary>
    public static void CompressZstdFrame(PlannedEntry entry, int piece, PackingContext context, CancellationToken cancellationToken)
    {
        var (offset, length) = PieceRange(entry, piece, context.Settings.ZstdFrameSize);
        var buffer = ArrayPool<byte>.Shared.Rent(context.Settings.BufferSize);
        try
        {
            using var reader = SourceReader.Open(entry.Input.SourcePath, entry.Input.EntryName, offset, length);
            using var part = context.CreatePart(entry.PartPaths[piece]);
            using var compressor = new Compressor(context.Level);
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1);
            compressor.SetPledgedSrcSize((ulong)length);
            WriteToPart(context, () =>
            {
                using var zstd = new CompressionStream(part, compressor, bufferSize: 0, preserveCompressor: true, leaveOpen: true);
                CopyPiece(reader, zstd, buffer, context, cancellationToken);
            });
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Compresses piece <paramref name="piece"/> of a file into raw deflate. Every piece but the last
    /// ends on a sync flush (byte-aligned, no final block) and the final block the stream adds on
    /// dispose is cut off again, so the pieces joined in order form one valid deflate stream.
    /// </summary>
    public static void CompressDeflatePiece(PlannedEntry entry, int piece, PackingContext context, CancellationToken cancellationToken)
    {
        var (offset, length) = PieceRange(entry, piece, context.Settings.DeflatePieceSize);
        var isLast = offset + length == entry.Size;
        var buffer = ArrayPool<byte>.Shared.Rent(context.Settings.BufferSize);
        try
        {
            using var reader = SourceReader.Open(entry.Input.SourcePath, entry.Input.EntryName, offset, length);
            using var part = context.CreatePart(entry.PartPaths[piece]);
            long keep = -1;
            WriteToPart(context, () =>
            {
                using var deflate = new DeflateStream(part, ArchiveCompressionLevels.ToDeflateLevel(context.Level), leaveOpen: true);
                CopyPiece(reader, deflate, buffer, context, cancellationToken);
                if (!isLast)
                {
                    // DeflateStream.Flush is zlib's Z_SYNC_FLUSH: all input out, ends on a byte boundary.
                    deflate.Flush();
                    keep = part.Position;
                }
            });
            if (!isLast)
            {
                WriteToPart(context, () =>
                {
                    EnsureEndsOnSyncFlush(part, keep, context);
                    part.SetLength(keep);
                });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Where piece <paramref name="piece"/> of <paramref name="pieceSize"/> bytes lies in the entry's file.</summary>
    public static (long Offset, long Length) PieceRange(PlannedEntry entry, int piece, int pieceSize)
    {
        var offset = (long)piece * pieceSize;
        return (offset, Math.Min(pieceSize, entry.Size - offset));
    }

    /// <summary>Streams a piece of the source through <paramref name="buffer"/> into its compressor, counting progress.</summary>
    private static void CopyPiece(SourceReader reader, Stream compressor, byte[] buffer, PackingContext context, CancellationToken cancellationToken)
    {
        int read;
        while ((read = reader.Read(buffer.AsSpan(0, context.Settings.BufferSize))) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            compressor.Write(buffer, 0, read);
            context.Progress.Add(read);
        }
    }

    // A sync flush always ends with an empty stored block, 00 00 FF FF. Checked because joining pieces
    // relies on Flush being exactly that, and the zlib under DeflateStream is whatever the .NET runtime
    // running MSBuild ships: better a clear error than an archive that fails to inflate at init.
    private static void EnsureEndsOnSyncFlush(FileStream part, long length, PackingContext context)
    {
        Span<byte> tail = stackalloc byte[4];
        if (length >= 4)
        {
            part.Position = length - 4;
            part.ReadExactly(tail);
        }
        if (length < 4 || tail[0] != 0 || tail[1] != 0 || tail[2] != 0xFF || tail[3] != 0xFF)
        {
            throw ArchiveErrors.WriteFailed(
                context.DestinationPath,
                "DeflateStream.Flush did not end on a zlib sync flush on this .NET runtime, so a large file cannot be deflated in pieces; use SnapLoaderCompression=Zstd.");
        }
    }

    // Source reads translate their own failures (SNAP0011); what is left here is the scratch file.
    private static void WriteToPart(PackingContext context, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(context.DestinationPath, e.Message, e);
        }
        catch (ZstdException e)
        {
            throw ArchiveErrors.WriteFailed(context.DestinationPath, $"zstd failed: {e.Message}", e);
        }
    }

    private static void DisposeQuietly(IDisposable? disposable)
    {
        try
        {
            disposable?.Dispose();
        }
        catch (Exception e) when (e is ObjectDisposedException || ArchiveErrors.IsFileSystemFailure(e) || e is ZstdException)
        {
            // Cleanup after a failure that is already on its way up; this one would only hide it.
        }
    }
}
