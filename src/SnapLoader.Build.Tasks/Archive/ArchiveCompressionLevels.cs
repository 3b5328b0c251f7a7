using System.IO.Compression;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// What the integer level means for each <see cref="ArchiveCompression"/>. Level 0 always means "the
/// default for that compression", so a property left empty can pass 0.
/// </summary>
public static class ArchiveCompressionLevels
{
    /// <summary>Zstd level used for 0: measured in docs/compression.md as the best publish-time trade-off.</summary>
    public const int DefaultZstdLevel = 3;

    /// <summary>Deflate level used for 0 (zlib's own default, <see cref="CompressionLevel.Optimal"/>).</summary>
    public const int DefaultDeflateLevel = 6;

    /// <summary>Highest zstd level accepted (zstd's maximum; 20-22 need much more memory).</summary>
    public const int MaxZstdLevel = 22;

    /// <summary>Highest deflate level accepted, as in zlib and <c>zip -9</c>.</summary>
    public const int MaxDeflateLevel = 9;

    /// <summary>True when <paramref name="level"/> is accepted for <paramref name="compression"/>.</summary>
    /// <remarks>Stored ignores the level, so any value passes. Negative (zstd "fast") levels are not offered.</remarks>
    public static bool IsValid(ArchiveCompression compression, int level) => compression switch
    {
        ArchiveCompression.Stored => true,
        ArchiveCompression.Deflate => level is >= 0 and <= MaxDeflateLevel,
        ArchiveCompression.Zstd => level is >= 0 and <= MaxZstdLevel,
        _ => false,
    };

    /// <summary>The level that will be used: <paramref name="level"/>, or the default when it is 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The level is outside the range of <paramref name="compression"/>.</exception>
    public static int Resolve(ArchiveCompression compression, int level)
    {
        if (!IsValid(compression, level))
        {
            throw new ArgumentOutOfRangeException(
                nameof(level),
                level,
                $"{compression} takes levels 0 (default) to {(compression == ArchiveCompression.Zstd ? MaxZstdLevel : MaxDeflateLevel)}.");
        }
        return compression switch
        {
            ArchiveCompression.Deflate when level == 0 => DefaultDeflateLevel,
            ArchiveCompression.Zstd when level == 0 => DefaultZstdLevel,
            ArchiveCompression.Stored => 0,
            _ => level,
        };
    }

    /// <summary>
    /// Maps a zlib-style deflate level (1-9) onto the three settings DeflateStream offers on net8.0:
    /// 1-3 <see cref="CompressionLevel.Fastest"/> (zlib 1), 4-6 <see cref="CompressionLevel.Optimal"/>
    /// (zlib 6), 7-9 <see cref="CompressionLevel.SmallestSize"/> (zlib 9).
    /// </summary>
    public static CompressionLevel ToDeflateLevel(int level) => level switch
    {
        <= 3 => CompressionLevel.Fastest,
        <= 6 => CompressionLevel.Optimal,
        _ => CompressionLevel.SmallestSize,
    };

    /// <summary>The ZIP method number written for <paramref name="compression"/>.</summary>
    public static ushort ZipMethod(ArchiveCompression compression) => compression switch
    {
        ArchiveCompression.Deflate => ZipFormat.MethodDeflate,
        ArchiveCompression.Zstd => ZipFormat.MethodZstd,
        _ => ZipFormat.MethodStored,
    };
}
