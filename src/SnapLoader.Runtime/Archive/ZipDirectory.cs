using System.Buffers.Binary;
using System.Text;

namespace SnapLoader.Runtime;

/// <summary>
/// Reads and validates a ZIP's end records and central directory (PKWARE APPNOTE 6.3.10, 4.3.12-4.3.16, Zip64 4.5.3)
/// with at most three ranged reads: the last 64 KiB, then the Zip64 end record and the directory if they are not in it.
/// Everything is checked before any entry is fetched, so a malformed archive fails before memory files are made.
/// </summary>
internal sealed class ZipDirectory
{
    // The end record may be followed by a comment of up to 65,535 bytes and preceded by the Zip64 locator and record.
    private const int TailLength = ZipFormat.EndOfCentralDirectoryLength + ushort.MaxValue + ZipFormat.Zip64EndOfCentralDirectoryLocatorLength + ZipFormat.Zip64EndOfCentralDirectoryLength;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ZipDirectory(string archive, long archiveLength, long directoryOffset, IReadOnlyList<ZipEntryRecord> entries)
    {
        Archive = archive;
        ArchiveLength = archiveLength;
        DirectoryOffset = directoryOffset;
        Entries = entries;
    }

    /// <summary>The archive's description, for messages.</summary>
    public string Archive { get; }

    /// <summary>The archive's length.</summary>
    public long ArchiveLength { get; }

    /// <summary>Where the central directory starts: every entry's data must end before it.</summary>
    public long DirectoryOffset { get; }

    /// <summary>Every entry, in directory order (the build writes them in load order).</summary>
    public IReadOnlyList<ZipEntryRecord> Entries { get; }

    /// <summary>Reads and validates the directory of <paramref name="source"/>.</summary>
    /// <exception cref="SnapLoaderException">Truncated or corrupt archive, unsafe name, symlink, duplicate name, impossible size, unsupported entry.</exception>
    public static async Task<ZipDirectory> ReadAsync(IArchiveSource source, CancellationToken cancellationToken)
    {
        var archive = source.Description;
        var length = await source.GetLengthAsync(cancellationToken).ConfigureAwait(false);
        if (length < ZipFormat.EndOfCentralDirectoryLength)
        {
            throw RuntimeErrors.NoEndRecord(archive, length);
        }

        var tailStart = Math.Max(0, length - TailLength);
        var tail = new byte[length - tailStart];
        await source.ReadAsync(tailStart, tail, cancellationToken).ConfigureAwait(false);

        var endAt = FindEndRecord(tail);
        if (endAt < 0)
        {
            throw RuntimeErrors.NoEndRecord(archive, length);
        }
        var endPosition = tailStart + endAt;
        var diskNumber = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(endAt + 4));
        var directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(endAt + 6));
        long entriesOnDisk = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(endAt + 8));
        long entryCount = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(endAt + 10));
        long directoryLength = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(endAt + 12));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(endAt + 16));
        var directoryEnd = endPosition;

        // Python's zipfile and Info-ZIP take the Zip64 records whenever the locator is there, whatever the classic fields say.
        var locatorAt = endAt - ZipFormat.Zip64EndOfCentralDirectoryLocatorLength;
        if (locatorAt >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(locatorAt)) == ZipFormat.Zip64EndOfCentralDirectoryLocatorSignature)
        {
            var zip64Offset = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(locatorAt + 8));
            var locatorPosition = tailStart + locatorAt;
            if (!FitsBefore(zip64Offset, ZipFormat.Zip64EndOfCentralDirectoryLength, locatorPosition))
            {
                throw RuntimeErrors.Corrupt(archive, $"the Zip64 locator points to offset {zip64Offset:N0}, outside the archive before the locator at {locatorPosition:N0}");
            }
            var zip64 = new byte[ZipFormat.Zip64EndOfCentralDirectoryLength];
            if (zip64Offset >= tailStart)
            {
                tail.AsSpan((int)(zip64Offset - tailStart), ZipFormat.Zip64EndOfCentralDirectoryLength).CopyTo(zip64);
            }
            else
            {
                await source.ReadAsync(zip64Offset, zip64, cancellationToken).ConfigureAwait(false);
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != ZipFormat.Zip64EndOfCentralDirectorySignature)
            {
                throw RuntimeErrors.Corrupt(archive, $"no Zip64 end of central directory record at offset {zip64Offset:N0}, where the locator points");
            }
            diskNumber = checked((ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(zip64.AsSpan(16)), ushort.MaxValue));
            directoryDisk = checked((ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(zip64.AsSpan(20)), ushort.MaxValue));
            entriesOnDisk = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(24));
            entryCount = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(32));
            directoryLength = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(40));
            directoryOffset = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(48));
            directoryEnd = zip64Offset;
        }

        if (diskNumber != 0 || directoryDisk != 0 || entriesOnDisk != entryCount)
        {
            throw RuntimeErrors.Corrupt(archive, "it is a multi-disk (split) archive, or its end record is damaged");
        }
        if (entryCount < 0 || !FitsBefore(directoryOffset, directoryLength, directoryEnd) || directoryLength != directoryEnd - directoryOffset)
        {
            throw RuntimeErrors.Corrupt(archive,
                $"the end record says the central directory is {directoryLength:N0} bytes at offset {directoryOffset:N0}, but the end records start at {directoryEnd:N0}");
        }
        if (entryCount > directoryLength / ZipFormat.CentralDirectoryHeaderLength)
        {
            throw RuntimeErrors.Corrupt(archive, $"the end record counts {entryCount:N0} entries, more than a {directoryLength:N0}-byte central directory can hold");
        }

        byte[] directory;
        if (directoryOffset >= tailStart)
        {
            directory = tail.AsSpan((int)(directoryOffset - tailStart), (int)directoryLength).ToArray();
        }
        else
        {
            if (directoryLength > Array.MaxLength)
            {
                throw RuntimeErrors.Corrupt(archive, $"its central directory is {directoryLength:N0} bytes long");
            }
            directory = new byte[directoryLength];
            await source.ReadAsync(directoryOffset, directory, cancellationToken).ConfigureAwait(false);
        }

        var entries = ParseEntries(archive, directory, entryCount, directoryOffset);
        return new ZipDirectory(archive, length, directoryOffset, entries);
    }

    /// <summary>
    /// Reads the entry's local header (30 bytes: its name and extra lengths may differ from the central directory's) and
    /// returns where the entry's data starts, checked to end before the central directory.
    /// </summary>
    public async ValueTask<long> GetDataOffsetAsync(IArchiveSource source, ZipEntryRecord entry, CancellationToken cancellationToken)
    {
        var header = new byte[ZipFormat.LocalFileHeaderLength];
        await source.ReadAsync(entry.LocalHeaderOffset, header, cancellationToken).ConfigureAwait(false);
        return DataOffset(entry, header);
    }

    /// <summary>Validates a local header read elsewhere and returns where the entry's data starts.</summary>
    public long DataOffset(ZipEntryRecord entry, ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != ZipFormat.LocalFileHeaderSignature)
        {
            throw RuntimeErrors.Corrupt(Archive, $"entry '{RuntimeErrors.Printable(entry.Name)}' has no local file header at offset {entry.LocalHeaderOffset:N0}");
        }
        var method = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (method != entry.Method || nameLength != entry.NameLength)
        {
            throw RuntimeErrors.Corrupt(Archive,
                $"the local header of entry '{RuntimeErrors.Printable(entry.Name)}' (method {method}, name length {nameLength}) disagrees with the central directory (method {entry.Method}, name length {entry.NameLength})");
        }
        // The directory checked that the header and name lie before it; the local extra field is new here.
        var dataOffset = entry.LocalHeaderOffset + ZipFormat.LocalFileHeaderLength + nameLength + extraLength;
        if (!FitsBefore(dataOffset, entry.CompressedSize, DirectoryOffset))
        {
            throw RuntimeErrors.Corrupt(Archive,
                $"entry '{RuntimeErrors.Printable(entry.Name)}' ({entry.CompressedSize:N0} bytes at offset {dataOffset:N0}) runs into the central directory at {DirectoryOffset:N0}");
        }
        return dataOffset;
    }

    /// <summary>
    /// Whether <paramref name="length"/> bytes at <paramref name="start"/> end at or before <paramref name="end"/>.
    /// Zip64 fields are 64-bit values an archive can set near <see cref="long.MaxValue"/>: <c>start + length</c> could
    /// wrap around to a small number and pass, so the sum is never formed.
    /// </summary>
    private static bool FitsBefore(long start, long length, long end) =>
        start >= 0 && length >= 0 && start <= end && length <= end - start;

    /// <summary>
    /// The most a method can expand its input: deflate's longest match (258 bytes) takes at least 2 bits, so 1032:1
    /// (RFC 1951); a zstd RLE block repeats one byte up to 128 KiB for 4 bytes of input, so 32768:1. A declared size
    /// beyond that is no file the method could hold, whatever the data says. Stored entries must match exactly (checked
    /// above); other methods are refused later as unsupported.
    /// </summary>
    private static long? MaxExpansion(ushort method) => method switch
    {
        ZipFormat.MethodDeflate => 1032,
        ZipFormat.MethodZstd => 32768,
        _ => null,
    };

    /// <summary>The end record is the last signature whose comment length reaches exactly to the end of the archive.</summary>
    private static int FindEndRecord(byte[] tail)
    {
        for (var at = tail.Length - ZipFormat.EndOfCentralDirectoryLength; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at)) == ZipFormat.EndOfCentralDirectorySignature
                && at + ZipFormat.EndOfCentralDirectoryLength + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 20)) == tail.Length)
            {
                return at;
            }
        }
        return -1;
    }

    private static List<ZipEntryRecord> ParseEntries(string archive, byte[] directory, long entryCount, long directoryOffset)
    {
        var entries = new List<ZipEntryRecord>((int)Math.Min(entryCount, 1 << 16));
        var names = new HashSet<string>(StringComparer.Ordinal);
        var at = 0;
        for (long index = 0; index < entryCount; index++)
        {
            if (directory.Length - at < ZipFormat.CentralDirectoryHeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != ZipFormat.CentralDirectoryHeaderSignature)
            {
                throw RuntimeErrors.Corrupt(archive, $"central directory entry {index} (at offset {directoryOffset + at:N0}) has no valid header");
            }
            var header = directory.AsSpan(at, ZipFormat.CentralDirectoryHeaderLength);
            var versionMadeBy = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
            long compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
            long diskStart = BinaryPrimitives.ReadUInt16LittleEndian(header[34..]);
            var externalAttributes = BinaryPrimitives.ReadUInt32LittleEndian(header[38..]);
            long localHeaderOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
            var recordLength = ZipFormat.CentralDirectoryHeaderLength + nameLength + extraLength + commentLength;
            if (directory.Length - at < recordLength)
            {
                throw RuntimeErrors.Corrupt(archive, $"central directory entry {index} runs past the end of the directory");
            }
            var nameBytes = directory.AsSpan(at + ZipFormat.CentralDirectoryHeaderLength, nameLength);
            var extra = directory.AsSpan(at + ZipFormat.CentralDirectoryHeaderLength + nameLength, extraLength);
            var name = DecodeName(archive, nameBytes, (flags & ZipFormat.Utf8NameFlag) != 0);

            // Zip64 extended information (APPNOTE 4.5.3): only the fields whose classic value is saturated, in this order.
            ReadZip64Extra(archive, name, extra, ref size, ref compressedSize, ref localHeaderOffset, ref diskStart);

            var isDirectory = name.EndsWith('/');
            ValidateName(archive, name, isDirectory);
            var host = versionMadeBy >> 8;
            // Unix (3) and OS X (19) keep st_mode in the upper 16 bits of the external attributes.
            if ((host == 3 || host == 19) && ((externalAttributes >> 16) & 0xF000) == 0xA000)
            {
                throw RuntimeErrors.Symlink(archive, name);
            }
            if ((flags & 0x41) != 0)
            {
                throw new SnapLoaderException(RuntimeErrorCodes.UnsupportedCompression,
                    $"Entry '{RuntimeErrors.Printable(name)}' of {archive} is encrypted; SnapLoader reads only unencrypted archives.");
            }
            if (diskStart != 0)
            {
                throw RuntimeErrors.Corrupt(archive, $"entry '{RuntimeErrors.Printable(name)}' starts on disk {diskStart} (split archives are not supported)");
            }
            if (size < 0 || !FitsBefore(localHeaderOffset, ZipFormat.LocalFileHeaderLength + nameLength, directoryOffset)
                || !FitsBefore(localHeaderOffset + ZipFormat.LocalFileHeaderLength + nameLength, compressedSize, directoryOffset))
            {
                throw RuntimeErrors.Corrupt(archive,
                    $"entry '{RuntimeErrors.Printable(name)}' ({compressedSize:N0} bytes at local header offset {localHeaderOffset:N0}) lies outside the entries, which end at the central directory ({directoryOffset:N0})");
            }
            if (method == ZipFormat.MethodStored && compressedSize != size)
            {
                throw RuntimeErrors.Corrupt(archive, $"stored entry '{RuntimeErrors.Printable(name)}' has a compressed size of {compressedSize:N0} but a size of {size:N0}");
            }
            if (MaxExpansion(method) is { } ratio && size / ratio > compressedSize)
            {
                throw RuntimeErrors.ImpossibleSize(archive, name, size, compressedSize, method, ratio);
            }
            // A file and a folder entry of the same name would fight over one path in the folder of links.
            if (!names.Add(isDirectory ? name[..^1] : name))
            {
                throw RuntimeErrors.Duplicate(archive, name);
            }
            entries.Add(new ZipEntryRecord(name, method, crc, compressedSize, size, localHeaderOffset, isDirectory, nameLength));
            at += recordLength;
        }
        if (at != directory.Length)
        {
            throw RuntimeErrors.Corrupt(archive, $"its central directory holds {directory.Length - at:N0} bytes after the {entryCount:N0} entries the end record counts");
        }
        return entries;
    }

    private static void ReadZip64Extra(string archive, string name, ReadOnlySpan<byte> extra, ref long size, ref long compressedSize, ref long localHeaderOffset, ref long diskStart)
    {
        var needed = (size == ZipFormat.Marker32 ? 8 : 0) + (compressedSize == ZipFormat.Marker32 ? 8 : 0) + (localHeaderOffset == ZipFormat.Marker32 ? 8 : 0) + (diskStart == ZipFormat.Marker16 ? 4 : 0);
        if (needed == 0)
        {
            return;
        }
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4)
            {
                break;
            }
            if (id == ZipFormat.Zip64ExtraFieldTag)
            {
                if (length < needed)
                {
                    break;
                }
                var field = extra.Slice(4, length);
                if (size == ZipFormat.Marker32) { size = BinaryPrimitives.ReadInt64LittleEndian(field); field = field[8..]; }
                if (compressedSize == ZipFormat.Marker32) { compressedSize = BinaryPrimitives.ReadInt64LittleEndian(field); field = field[8..]; }
                if (localHeaderOffset == ZipFormat.Marker32) { localHeaderOffset = BinaryPrimitives.ReadInt64LittleEndian(field); field = field[8..]; }
                if (diskStart == ZipFormat.Marker16) { diskStart = BinaryPrimitives.ReadUInt32LittleEndian(field); }
                return;
            }
            extra = extra[(4 + length)..];
        }
        throw RuntimeErrors.Corrupt(archive, $"entry '{RuntimeErrors.Printable(name)}' has 32-bit sizes or offset marked as Zip64 but no valid Zip64 extra field");
    }

    /// <summary>
    /// Bit 11 says UTF-8. Without it the standard says CP437, but Linux tools write UTF-8 there too; a name that is not
    /// valid UTF-8 is read as Latin-1 so that it can at least be named in an error.
    /// </summary>
    private static string DecodeName(string archive, ReadOnlySpan<byte> bytes, bool utf8)
    {
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException) when (!utf8)
        {
            return Encoding.Latin1.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw RuntimeErrors.Corrupt(archive, $"an entry name marked UTF-8 is not valid UTF-8 ({Convert.ToHexString(bytes[..Math.Min(bytes.Length, 64)])})");
        }
    }

    /// <summary>Refuses every name that could land outside the base path once joined to it (zip-slip): <see cref="EntryNameRules"/>.</summary>
    internal static void ValidateName(string archive, string name, bool isDirectory)
    {
        // A folder's trailing '/' is not part of its path; "/" alone stays, to be named absolute.
        if (EntryNameRules.Problem(isDirectory && name.Length > 1 ? name[..^1] : name) is { } problem)
        {
            throw RuntimeErrors.UnsafeName(archive, name, problem);
        }
    }
}
