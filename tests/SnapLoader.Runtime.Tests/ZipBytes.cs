using System.Buffers.Binary;
using System.Text;

namespace SnapLoader.Runtime.Tests;

/// <summary>Finds and changes the fields of one entry in an archive's bytes, to damage it in a precise way.</summary>
internal static class ZipBytes
{
    private const uint CentralSignature = 0x02014B50;
    private const uint LocalSignature = 0x04034B50;

    /// <summary>Where the central directory record of <paramref name="name"/> starts.</summary>
    public static int CentralRecord(byte[] archive, string name) => FindRecord(archive, CentralSignature, 46, 28, name);

    /// <summary>Where the local header of <paramref name="name"/> starts.</summary>
    public static int LocalHeader(byte[] archive, string name) => FindRecord(archive, LocalSignature, 30, 26, name);

    /// <summary>Sets the 32-bit uncompressed size of <paramref name="name"/> in its central record (and local header, as a writer would).</summary>
    public static void SetSize(byte[] archive, string name, uint size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(archive.AsSpan(CentralRecord(archive, name) + 24), size);
        BinaryPrimitives.WriteUInt32LittleEndian(archive.AsSpan(LocalHeader(archive, name) + 22), size);
    }

    /// <summary>The 32-bit compressed size of <paramref name="name"/> from its central record.</summary>
    public static uint CompressedSize(byte[] archive, string name) =>
        BinaryPrimitives.ReadUInt32LittleEndian(archive.AsSpan(CentralRecord(archive, name) + 20));

    /// <summary>The compression method of <paramref name="name"/> from its central record.</summary>
    public static ushort Method(byte[] archive, string name) =>
        BinaryPrimitives.ReadUInt16LittleEndian(archive.AsSpan(CentralRecord(archive, name) + 10));

    /// <summary>Flips bits of the CRC-32 in the central record of <paramref name="name"/>.</summary>
    public static void DamageCrc(byte[] archive, string name) => archive[CentralRecord(archive, name) + 16] ^= 0x5A;

    private static int FindRecord(byte[] archive, uint signature, int fixedLength, int nameLengthAt, string name)
    {
        var wanted = Encoding.UTF8.GetBytes(name);
        for (var at = 0; at + fixedLength <= archive.Length; at++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(archive.AsSpan(at)) == signature
                && BinaryPrimitives.ReadUInt16LittleEndian(archive.AsSpan(at + nameLengthAt)) == wanted.Length
                && archive.AsSpan(at + fixedLength).StartsWith(wanted))
            {
                return at;
            }
        }
        throw new InvalidOperationException($"No record with signature {signature:x8} for '{name}'.");
    }
}
