using System.Buffers.Binary;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Damages a copy of a valid archive in one to three places, each aimed at a local header, entry data, the central
/// directory or the end records, and sometimes cuts, grows or shifts the whole archive. Every choice comes from the
/// <see cref="Random"/> it is given, so a seed gives the same damage on every run; each step is described so a failure
/// can say what was done.
/// </summary>
internal static class ArchiveMutator
{
    public static (byte[] Bytes, IReadOnlyList<string> Steps) Mutate(byte[] original, ArchiveLayout layout, Random random)
    {
        var bytes = (byte[])original.Clone();
        var steps = new List<string>();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var roll = random.Next(100);
            if (roll < 6)
            {
                bytes = Reshape(bytes, random, steps);
                continue;
            }
            if (roll < 40)
            {
                // Aimed at a size, offset or count: the values that bounds checks exist for.
                var field = layout.Fields[random.Next(layout.Fields.Count)];
                if (field.Offset + field.Width <= bytes.Length)
                {
                    steps.Add($"{field.Name}: {SetInteger(bytes, field.Offset, field.Width, random)}");
                }
                continue;
            }
            var (region, start, end) = PickRegion(layout, random);
            if (end <= start || end > bytes.Length)
            {
                continue;
            }
            var at = start + random.Next(end - start);
            steps.Add($"{region}: {Damage(bytes, at, random)}");
        }
        return (bytes, steps);
    }

    private static (string Region, int Start, int End) PickRegion(ArchiveLayout layout, Random random)
    {
        var roll = random.Next(100);
        if (roll < 20)
        {
            var entry = random.Next(layout.LocalHeaders.Count);
            return ($"local header {entry}", layout.LocalHeaders[entry].Start, layout.LocalHeaders[entry].End);
        }
        if (roll < 50)
        {
            var entry = random.Next(layout.Data.Count);
            return ($"data {entry}", layout.Data[entry].Start, layout.Data[entry].End);
        }
        if (roll < 85)
        {
            return ("central directory", layout.DirectoryStart, layout.EndRecordsStart);
        }
        return ("end records", layout.EndRecordsStart, layout.Length);
    }

    private static string Damage(byte[] bytes, int at, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
            {
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return $"flip bit {bit} at {at}";
            }
            case 1:
            {
                var value = (byte)random.Next(256);
                bytes[at] = value;
                return $"byte {value:x2} at {at}";
            }
            default:
            {
                var width = new[] { 2, 4, 8 }[random.Next(3)];
                at = Math.Min(at, bytes.Length - width);
                return at < 0 ? "nothing (archive too short)" : SetInteger(bytes, at, width, random);
            }
        }
    }

    /// <summary>Gives the <paramref name="width"/>-byte integer at <paramref name="at"/> a value that tests a bound.</summary>
    private static string SetInteger(byte[] bytes, int at, int width, Random random)
    {
        var span = bytes.AsSpan(at, width);
        var current = width switch
        {
            2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
        };
        var allOnes = width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;
        var value = random.Next(8) switch
        {
            0 => 0UL,
            1 => allOnes,
            2 => allOnes >> 1,
            3 => (allOnes >> 1) + 1,
            4 => (allOnes >> 1) - (ulong)random.Next(64),
            5 => current + (ulong)random.Next(1, 17),
            6 => current - (ulong)random.Next(1, 17),
            _ => (ulong)random.NextInt64() & allOnes,
        } & allOnes;
        for (var i = 0; i < width; i++)
        {
            span[i] = (byte)(value >> (8 * i));
        }
        return $"{8 * width}-bit {value:x} (was {current:x}) at {at}";
    }

    private static byte[] Reshape(byte[] bytes, Random random, List<string> steps)
    {
        var at = random.Next(bytes.Length + 1);
        switch (random.Next(3))
        {
            case 0:
                steps.Add($"truncate to {at} bytes");
                return bytes[..at];
            case 1:
            {
                var extra = new byte[1 + random.Next(64)];
                random.NextBytes(extra);
                steps.Add($"insert {extra.Length} random bytes at {at}");
                return [.. bytes[..at], .. extra, .. bytes[at..]];
            }
            default:
            {
                var length = Math.Min(1 + random.Next(64), bytes.Length - at);
                steps.Add($"delete {length} bytes at {at}");
                return [.. bytes[..at], .. bytes[(at + length)..]];
            }
        }
    }
}
