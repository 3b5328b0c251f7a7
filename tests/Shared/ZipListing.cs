using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace SnapLoader.Tests;

/// <summary>One entry of a ZIP's central directory.</summary>
internal sealed record ZipListingEntry(string Name, ushort Method, long CompressedSize, long Size, long LocalHeaderOffset);

/// <summary>
/// Test-side reader of the archives the build writes. System.IO.Compression cannot open zstd (method 93) entries
/// and does not expose where an entry's data starts, so the tests read the central directory themselves.
/// </summary>
internal static class ZipListing
{
    public static IReadOnlyList<ZipListingEntry> Read(string path)
    {
        using var file = File.OpenRead(path);
        var tail = new byte[(int)Math.Min(file.Length, 65_557)];
        file.Seek(-tail.Length, SeekOrigin.End);
        file.ReadExactly(tail);
        var eocd = tail.AsSpan().LastIndexOf(new byte[] { 0x50, 0x4b, 0x05, 0x06 });
        if (eocd < 0)
        {
            throw new InvalidDataException($"{path} has no end of central directory record.");
        }

        long count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(eocd + 10));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 16));
        if (directoryOffset == uint.MaxValue || count == ushort.MaxValue)
        {
            // The Zip64 end record's offset is in the locator just before the classic end record.
            var locator = eocd - 20;
            var zip64Offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(locator + 8));
            var zip64 = new byte[56];
            file.Seek(zip64Offset, SeekOrigin.Begin);
            file.ReadExactly(zip64);
            count = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(32));
            directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(48));
        }

        file.Seek(directoryOffset, SeekOrigin.Begin);
        var reader = new BinaryReader(file);
        var entries = new List<ZipListingEntry>();
        for (var i = 0; i < count; i++)
        {
            if (reader.ReadUInt32() != 0x02014b50)
            {
                throw new InvalidDataException($"{path}: central directory entry {i} has a bad signature.");
            }
            reader.ReadBytes(6);
            var method = reader.ReadUInt16();
            reader.ReadBytes(8);
            long compressed = reader.ReadUInt32();
            long size = reader.ReadUInt32();
            var nameLength = reader.ReadUInt16();
            var extraLength = reader.ReadUInt16();
            var commentLength = reader.ReadUInt16();
            reader.ReadBytes(8);
            long offset = reader.ReadUInt32();
            var name = System.Text.Encoding.UTF8.GetString(reader.ReadBytes(nameLength));
            var extra = reader.ReadBytes(extraLength);
            reader.ReadBytes(commentLength);

            // Zip64 extended information: only the fields whose classic value is saturated are present, in this order.
            for (var at = 0; at + 4 <= extra.Length;)
            {
                var id = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(at));
                var length = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(at + 2));
                if (id == 1)
                {
                    var field = at + 4;
                    if (size == uint.MaxValue) { size = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(field)); field += 8; }
                    if (compressed == uint.MaxValue) { compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(field)); field += 8; }
                    if (offset == uint.MaxValue) { offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(field)); }
                }
                at += 4 + length;
            }
            entries.Add(new ZipListingEntry(name, method, compressed, size, offset));
        }
        return entries;
    }

    /// <summary>The SHA-256 (lowercase hex) of an entry's uncompressed content, decoded by its method.</summary>
    public static string Sha256OfEntry(string path, ZipListingEntry entry)
    {
        using var file = File.OpenRead(path);
        var header = new byte[30];
        file.Seek(entry.LocalHeaderOffset, SeekOrigin.Begin);
        file.ReadExactly(header);
        var dataStart = entry.LocalHeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
        file.Seek(dataStart, SeekOrigin.Begin);

        using Stream content = entry.Method switch
        {
            0 => new WindowStream(file, entry.CompressedSize, leaveOpen: true),
            8 => new DeflateStream(new WindowStream(file, entry.CompressedSize, leaveOpen: true), CompressionMode.Decompress),
            93 => new ZstdSharp.DecompressionStream(new WindowStream(file, entry.CompressedSize, leaveOpen: true)),
            _ => throw new InvalidDataException($"{entry.Name}: compression method {entry.Method} is not one SnapLoader writes."),
        };
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = content.Read(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }
        if (total != entry.Size)
        {
            throw new InvalidDataException($"{entry.Name}: decoded {total} bytes, the directory says {entry.Size}.");
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>The SHA-256 (lowercase hex) of a file.</summary>
    public static string Sha256OfFile(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
    }
}
