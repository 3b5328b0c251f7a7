using System.Buffers.Binary;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>Changes the fields of one entry in an archive's bytes, where <see cref="ZipListing"/> finds them, to damage it in a precise way.</summary>
internal static class ZipBytes
{
    /// <summary>Sets the 32-bit uncompressed size of <paramref name="name"/> in its central record (and local header, as a writer would).</summary>
    public static void SetSize(byte[] archive, string name, uint size)
    {
        var entry = ZipListing.Read(archive).Entry(name);
        BinaryPrimitives.WriteUInt32LittleEndian(archive.AsSpan((int)entry.CentralRecordOffset + 24), size);
        BinaryPrimitives.WriteUInt32LittleEndian(archive.AsSpan((int)entry.LocalHeaderOffset + 22), size);
    }

    /// <summary>Flips bits of the CRC-32 in the central record of <paramref name="name"/>.</summary>
    public static void DamageCrc(byte[] archive, string name) => archive[ZipListing.Read(archive).Entry(name).CentralRecordOffset + 16] ^= 0x5A;
}
