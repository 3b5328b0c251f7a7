namespace SnapLoader;

/// <summary>
/// The numbers of the ZIP format that the build's writer and the runtime's reader share (PKWARE APPNOTE 6.3.10,
/// sections 4.3-4.5): record signatures and fixed lengths, compression methods, flags and the Zip64 markers.
/// </summary>
/// <remarks>Compiled into both SnapLoader.Build.Tasks and SnapLoader.Runtime (see src/Shared/README.md).</remarks>
internal static class ZipFormat
{
    public const uint LocalFileHeaderSignature = 0x04034B50;
    public const uint CentralDirectoryHeaderSignature = 0x02014B50;
    public const uint Zip64EndOfCentralDirectorySignature = 0x06064B50;
    public const uint Zip64EndOfCentralDirectoryLocatorSignature = 0x07064B50;
    public const uint EndOfCentralDirectorySignature = 0x06054B50;

    public const int LocalFileHeaderLength = 30;
    public const int CentralDirectoryHeaderLength = 46;
    public const int Zip64EndOfCentralDirectoryLength = 56;
    public const int Zip64EndOfCentralDirectoryLocatorLength = 20;
    public const int EndOfCentralDirectoryLength = 22;

    public const ushort MethodStored = 0;
    public const ushort MethodDeflate = 8;

    /// <summary>Zstandard, as registered in APPNOTE 6.3.7 (4.4.5) and used by Python 3.14 and 7-Zip.</summary>
    public const ushort MethodZstd = 93;

    public const ushort Zip64ExtraFieldTag = 0x0001;

    /// <summary>General purpose bit 11: the name is UTF-8.</summary>
    public const ushort Utf8NameFlag = 1 << 11;

    /// <summary>A 32-bit field holding this says "look in the Zip64 extra field or record".</summary>
    public const uint Marker32 = 0xFFFFFFFF;

    /// <summary>A 16-bit count holding this says "look in the Zip64 end record".</summary>
    public const ushort Marker16 = 0xFFFF;
}
