using System.Buffers.Binary;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// The ZIP records this writer emits (PKWARE APPNOTE 6.3.10, sections 4.3 and 4.5.3), laid out byte by
/// byte with the numbers of <see cref="ZipFormat"/>. Only what a loader needs: no data descriptors, no timestamps
/// beyond a fixed DOS one, no extra fields other than Zip64, so the same files always give the same bytes.
/// </summary>
internal static class ZipRecords
{
    /// <summary>1980-01-01, the earliest DOS date: fixed so a rebuild of the same files gives the same bytes.</summary>
    public const ushort FixedDosDate = (0 << 9) | (1 << 5) | 1;

    public const ushort FixedDosTime = 0;

    // Upper byte 3 = Unix, so readers take the mode from the external attributes; lower byte 63 = the
    // APPNOTE version that defines method 93.
    public const ushort VersionMadeBy = (3 << 8) | 63;

    /// <summary>S_IFREG | 0644 in the upper 16 bits, the Unix convention for external attributes.</summary>
    public const uint RegularFileExternalAttributes = 0x81A4u << 16;

    private const ushort VersionStored = 10;
    private const ushort VersionDeflate = 20;
    private const ushort VersionZip64 = 45;

    // Python's zipfile refuses anything above 6.3 (MAX_EXTRACT_VERSION), so zstd asks for exactly that.
    private const ushort VersionZstd = 63;

    /// <summary>"Version needed to extract" for one entry.</summary>
    public static ushort VersionNeeded(ushort method, bool zip64)
    {
        var forMethod = method switch
        {
            ZipFormat.MethodZstd => VersionZstd,
            ZipFormat.MethodDeflate => VersionDeflate,
            _ => VersionStored,
        };
        return zip64 ? Math.Max(forMethod, VersionZip64) : forMethod;
    }

    /// <summary>The local file header of <paramref name="entry"/>, with its Zip64 extra field if it needs one.</summary>
    public static byte[] LocalFileHeader(in ZipEntryHeader entry)
    {
        var sizesInZip64 = entry.SizesInZip64;
        var extraLength = sizesInZip64 ? 4 + 16 : 0;
        var buffer = new byte[ZipFormat.LocalFileHeaderLength + entry.Name.Length + extraLength];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, ZipFormat.LocalFileHeaderSignature);
        // Same version as the central header even when only the offset needed Zip64, so the two agree.
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], VersionNeeded(entry.Method, sizesInZip64 || entry.OffsetInZip64));
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], entry.Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], entry.Method);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], FixedDosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], FixedDosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[14..], entry.Crc32);
        BinaryPrimitives.WriteUInt32LittleEndian(span[18..], sizesInZip64 ? ZipFormat.Marker32 : (uint)entry.CompressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[22..], sizesInZip64 ? ZipFormat.Marker32 : (uint)entry.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)entry.Name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)extraLength);
        entry.Name.CopyTo(span[ZipFormat.LocalFileHeaderLength..]);
        if (sizesInZip64)
        {
            // In a local header the Zip64 field must hold both sizes, original first (APPNOTE 4.5.3).
            var extra = span[(ZipFormat.LocalFileHeaderLength + entry.Name.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, ZipFormat.Zip64ExtraFieldTag);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
            BinaryPrimitives.WriteUInt64LittleEndian(extra[4..], (ulong)entry.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(extra[12..], (ulong)entry.CompressedSize);
        }
        return buffer;
    }

    /// <summary>The central directory header of <paramref name="entry"/>.</summary>
    public static byte[] CentralDirectoryHeader(in ZipEntryHeader entry)
    {
        var sizesInZip64 = entry.SizesInZip64;
        var offsetInZip64 = entry.OffsetInZip64;
        // Here the Zip64 field holds only the values whose 32-bit field reads 0xFFFFFFFF, in this order.
        var zip64DataLength = (sizesInZip64 ? 16 : 0) + (offsetInZip64 ? 8 : 0);
        var extraLength = zip64DataLength == 0 ? 0 : 4 + zip64DataLength;
        var buffer = new byte[ZipFormat.CentralDirectoryHeaderLength + entry.Name.Length + extraLength];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, ZipFormat.CentralDirectoryHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], VersionMadeBy);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], VersionNeeded(entry.Method, sizesInZip64 || offsetInZip64));
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], entry.Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], entry.Method);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], FixedDosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(span[14..], FixedDosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], entry.Crc32);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], sizesInZip64 ? ZipFormat.Marker32 : (uint)entry.CompressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], sizesInZip64 ? ZipFormat.Marker32 : (uint)entry.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)entry.Name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[30..], (ushort)extraLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], 0); // comment length
        BinaryPrimitives.WriteUInt16LittleEndian(span[34..], 0); // disk number start
        BinaryPrimitives.WriteUInt16LittleEndian(span[36..], 0); // internal attributes
        BinaryPrimitives.WriteUInt32LittleEndian(span[38..], RegularFileExternalAttributes);
        BinaryPrimitives.WriteUInt32LittleEndian(span[42..], offsetInZip64 ? ZipFormat.Marker32 : (uint)entry.LocalHeaderOffset);
        entry.Name.CopyTo(span[ZipFormat.CentralDirectoryHeaderLength..]);
        if (extraLength != 0)
        {
            var extra = span[(ZipFormat.CentralDirectoryHeaderLength + entry.Name.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, ZipFormat.Zip64ExtraFieldTag);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)zip64DataLength);
            var values = extra[4..];
            if (sizesInZip64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(values, (ulong)entry.Size);
                BinaryPrimitives.WriteUInt64LittleEndian(values[8..], (ulong)entry.CompressedSize);
                values = values[16..];
            }
            if (offsetInZip64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(values, (ulong)entry.LocalHeaderOffset);
            }
        }
        return buffer;
    }

    /// <summary>
    /// The records after the central directory: Zip64 end record and locator when any count, size or
    /// offset overflows its classic field (or <paramref name="forceZip64"/>), then the classic end record.
    /// </summary>
    public static byte[] EndRecords(long entryCount, long centralDirectoryOffset, long centralDirectoryLength, bool forceZip64)
    {
        var zip64 = forceZip64
            || entryCount >= ZipFormat.Marker16
            || centralDirectoryOffset >= ZipFormat.Marker32
            || centralDirectoryLength >= ZipFormat.Marker32;
        var length = ZipFormat.EndOfCentralDirectoryLength + (zip64 ? ZipFormat.Zip64EndOfCentralDirectoryLength + ZipFormat.Zip64EndOfCentralDirectoryLocatorLength : 0);
        var buffer = new byte[length];
        var span = buffer.AsSpan();
        if (zip64)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, ZipFormat.Zip64EndOfCentralDirectorySignature);
            BinaryPrimitives.WriteUInt64LittleEndian(span[4..], ZipFormat.Zip64EndOfCentralDirectoryLength - 12);
            BinaryPrimitives.WriteUInt16LittleEndian(span[12..], VersionMadeBy);
            BinaryPrimitives.WriteUInt16LittleEndian(span[14..], VersionZip64);
            BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 0); // this disk
            BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 0); // disk with the central directory
            BinaryPrimitives.WriteUInt64LittleEndian(span[24..], (ulong)entryCount);
            BinaryPrimitives.WriteUInt64LittleEndian(span[32..], (ulong)entryCount);
            BinaryPrimitives.WriteUInt64LittleEndian(span[40..], (ulong)centralDirectoryLength);
            BinaryPrimitives.WriteUInt64LittleEndian(span[48..], (ulong)centralDirectoryOffset);
            var locator = span[ZipFormat.Zip64EndOfCentralDirectoryLength..];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, ZipFormat.Zip64EndOfCentralDirectoryLocatorSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(locator[4..], 0); // disk with the Zip64 end record
            BinaryPrimitives.WriteUInt64LittleEndian(locator[8..], (ulong)(centralDirectoryOffset + centralDirectoryLength));
            BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1); // total disks
            span = span[(ZipFormat.Zip64EndOfCentralDirectoryLength + ZipFormat.Zip64EndOfCentralDirectoryLocatorLength)..];
        }

        // With a Zip64 record every classic field is a marker, so a reader never mixes the two sources.
        BinaryPrimitives.WriteUInt32LittleEndian(span, ZipFormat.EndOfCentralDirectorySignature);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], 0); // this disk
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0); // disk with the central directory
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], zip64 ? ZipFormat.Marker16 : (ushort)entryCount);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], zip64 ? ZipFormat.Marker16 : (ushort)entryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], zip64 ? ZipFormat.Marker32 : (uint)centralDirectoryLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], zip64 ? ZipFormat.Marker32 : (uint)centralDirectoryOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], 0); // comment length
        return buffer;
    }
}
