using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace SnapLoader.Tests;

/// <summary>
/// The tests' own reader of ZIP archives, field by field: the end records, the central directory and each entry's
/// local header, with where each lies. System.IO.Compression cannot open zstd (method 93) entries and does not say
/// where an entry's data or a record starts, which tests check, and aim damage at; and a reader of the tests' own
/// cannot share a mistake with the runtime's.
/// </summary>
internal sealed class ZipListing
{
    public const int EndRecordLength = 22;
    public const uint EndSignature = 0x06054B50;
    public const uint Zip64EndSignature = 0x06064B50;
    public const uint Zip64LocatorSignature = 0x07064B50;
    public const int Zip64LocatorLength = 20;

    // The end record with the longest comment it can count.
    private const int MaxEndSearch = EndRecordLength + ushort.MaxValue;

    private ZipListing(IReadOnlyList<ZipListingEntry> entries, long directoryOffset, long directoryLength, long endRecordOffset,
        long? zip64LocatorOffset, long? zip64EndRecordOffset)
    {
        Entries = entries;
        DirectoryOffset = directoryOffset;
        DirectoryLength = directoryLength;
        EndRecordOffset = endRecordOffset;
        Zip64LocatorOffset = zip64LocatorOffset;
        Zip64EndRecordOffset = zip64EndRecordOffset;
    }

    /// <summary>The entries in the order of the central directory.</summary>
    public IReadOnlyList<ZipListingEntry> Entries { get; }

    /// <summary>Where the central directory starts, from the Zip64 end record when there is one.</summary>
    public long DirectoryOffset { get; }

    /// <summary>The central directory's length, from the Zip64 end record when there is one.</summary>
    public long DirectoryLength { get; }

    /// <summary>Where the (classic) end of central directory record starts: the last one in the archive.</summary>
    public long EndRecordOffset { get; }

    /// <summary>Where the Zip64 end locator starts, just before the end record; null without Zip64 end records.</summary>
    public long? Zip64LocatorOffset { get; }

    /// <summary>Where the Zip64 end record starts, as the locator says; null without Zip64 end records.</summary>
    public long? Zip64EndRecordOffset { get; }

    /// <summary>The entry named <paramref name="name"/>.</summary>
    public ZipListingEntry Entry(string name) =>
        Entries.SingleOrDefault(e => e.Name == name) ?? throw new InvalidOperationException($"No entry '{name}' in the archive.");

    public static ZipListing Read(string path)
    {
        using var file = File.OpenRead(path);
        try
        {
            return Read(file);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static ZipListing Read(byte[] archive)
    {
        using var stream = new MemoryStream(archive, writable: false);
        return Read(stream);
    }

    /// <summary>Reads a whole archive; throws <see cref="InvalidDataException"/> where a record is not where another one says.</summary>
    public static ZipListing Read(Stream archive)
    {
        var tail = new byte[(int)Math.Min(archive.Length, MaxEndSearch)];
        var tailStart = archive.Length - tail.Length;
        archive.Position = tailStart;
        archive.ReadExactly(tail);
        var end = tail.AsSpan().LastIndexOf("PK\x05\x06"u8);
        if (end < 0 || end + EndRecordLength > tail.Length)
        {
            throw new InvalidDataException("No end of central directory record.");
        }
        long count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(end + 10));
        long directoryLength = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 12));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 16));

        long? locatorOffset = null;
        long? zip64EndOffset = null;
        if (end >= Zip64LocatorLength && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end - Zip64LocatorLength)) == Zip64LocatorSignature)
        {
            locatorOffset = tailStart + end - Zip64LocatorLength;
            zip64EndOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(end - Zip64LocatorLength + 8));
            var zip64End = new byte[56];
            archive.Position = zip64EndOffset.Value;
            archive.ReadExactly(zip64End);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64End) != Zip64EndSignature)
            {
                throw new InvalidDataException($"No Zip64 end record at {zip64EndOffset}, where the locator says.");
            }
            count = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(32));
            directoryLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(40));
            directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(48));
        }

        var entries = new List<ZipListingEntry>();
        var record = new byte[ZipListingEntry.CentralFixedLength];
        var at = directoryOffset;
        for (var i = 0; i < count; i++)
        {
            archive.Position = at;
            archive.ReadExactly(record);
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != ZipListingEntry.CentralSignature)
            {
                throw new InvalidDataException($"Central directory entry {i} (at {at}) has a bad signature.");
            }
            var method = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(10));
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(16));
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(20));
            long size = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(24));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(30));
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(32));
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(42));
            var name = new byte[nameLength];
            archive.ReadExactly(name);
            var extra = new byte[extraLength];
            archive.ReadExactly(extra);

            // Zip64 extended information: only the fields whose classic value is saturated are present, in this order.
            for (var field = 0; field + 4 <= extra.Length;)
            {
                var id = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(field));
                var length = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(field + 2));
                if (id == 1)
                {
                    var value = field + 4;
                    if (size == uint.MaxValue)
                    {
                        size = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(value));
                        value += 8;
                    }
                    if (compressed == uint.MaxValue)
                    {
                        compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(value));
                        value += 8;
                    }
                    if (offset == uint.MaxValue)
                    {
                        offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(value));
                    }
                }
                field += 4 + length;
            }

            var local = ZipLocalHeader.Read(archive, offset);
            entries.Add(new ZipListingEntry(Encoding.UTF8.GetString(name), method, crc, compressed, size, offset, at, nameLength, extraLength, commentLength, local));
            at += ZipListingEntry.CentralFixedLength + nameLength + extraLength + commentLength;
        }
        return new ZipListing(entries, directoryOffset, directoryLength, tailStart + end, locatorOffset, zip64EndOffset);
    }

    /// <summary>The SHA-256 (lowercase hex) of an entry's uncompressed content, decoded by its method.</summary>
    public static string Sha256OfEntry(string path, ZipListingEntry entry)
    {
        using var file = File.OpenRead(path);
        file.Position = entry.DataOffset;
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
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
