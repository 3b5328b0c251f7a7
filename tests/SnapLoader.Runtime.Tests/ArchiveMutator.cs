using System.Buffers.Binary;

namespace SnapLoader.Runtime.Tests;

/// <summary>One size, offset, count or length field of an archive: where it is and how wide.</summary>
/// <param name="Name">What it is, for the description of a failure.</param>
/// <param name="Offset">Where it starts.</param>
/// <param name="Width">2, 4 or 8 bytes.</param>
internal sealed record ZipField(string Name, int Offset, int Width);

/// <summary>Where the parts of a valid archive lie, so that damage can be aimed at each kind of structure.</summary>
/// <param name="LocalHeaders">Each entry's local header, name and extra field: [start, end).</param>
/// <param name="Data">Each entry's (compressed) data: [start, end).</param>
/// <param name="DirectoryStart">Where the central directory starts.</param>
/// <param name="EndRecordsStart">Where the end records start (the Zip64 end record if there is one).</param>
/// <param name="Length">The archive's length.</param>
/// <param name="Fields">The fields a reader computes positions and lengths from: the ones worth damaging on purpose.</param>
internal sealed record ArchiveLayout(
    IReadOnlyList<(int Start, int End)> LocalHeaders, IReadOnlyList<(int Start, int End)> Data, int DirectoryStart, int EndRecordsStart, int Length,
    IReadOnlyList<ZipField> Fields)
{
    /// <summary>Reads the layout of a valid archive with the runtime's own directory reader.</summary>
    public static async Task<ArchiveLayout> ReadAsync(string archive)
    {
        await using var source = LocalFileArchiveSource.Open(archive);
        var directory = await ZipDirectory.ReadAsync(source, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(archive);
        var headers = new List<(int, int)>();
        var data = new List<(int, int)>();
        var fields = new List<ZipField>();
        foreach (var entry in directory.Entries)
        {
            var at = (int)entry.LocalHeaderOffset;
            var dataOffset = (int)await directory.GetDataOffsetAsync(source, entry, CancellationToken.None);
            headers.Add((at, dataOffset));
            data.Add((dataOffset, dataOffset + (int)entry.CompressedSize));
            fields.AddRange(Fixed("local", at, (6, 2, "flags"), (8, 2, "method"), (14, 4, "crc"), (18, 4, "compressed size"), (22, 4, "size"), (26, 2, "name length"), (28, 2, "extra length")));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 26));
            fields.AddRange(Zip64Extra("local", bytes, at + 30 + nameLength, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28))));
        }

        var end = bytes.AsSpan().LastIndexOf("PK\x05\x06"u8);
        var locator = end - 20;
        var endRecords = end;
        if (locator >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(locator)) == 0x07064B50)
        {
            endRecords = (int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(locator + 8));
            fields.AddRange(Fixed("Zip64 end", endRecords, (24, 8, "entries on disk"), (32, 8, "entries"), (40, 8, "directory length"), (48, 8, "directory offset")));
            fields.AddRange(Fixed("Zip64 locator", locator, (8, 8, "Zip64 end offset")));
        }
        fields.AddRange(Fixed("end", end, (8, 2, "entries on disk"), (10, 2, "entries"), (12, 4, "directory length"), (16, 4, "directory offset"), (20, 2, "comment length")));

        for (var at = (int)directory.DirectoryOffset; at + 46 <= endRecords;)
        {
            fields.AddRange(Fixed("central", at, (8, 2, "flags"), (10, 2, "method"), (16, 4, "crc"), (20, 4, "compressed size"), (24, 4, "size"),
                (28, 2, "name length"), (30, 2, "extra length"), (32, 2, "comment length"), (34, 2, "disk"), (38, 4, "attributes"), (42, 4, "local header offset")));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 30));
            fields.AddRange(Zip64Extra("central", bytes, at + 46 + nameLength, extraLength));
            at += 46 + nameLength + extraLength + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 32));
        }
        return new ArchiveLayout(headers, data, (int)directory.DirectoryOffset, endRecords, bytes.Length, fields);
    }

    private static IEnumerable<ZipField> Fixed(string record, int at, params (int Offset, int Width, string Name)[] fields) =>
        fields.Select(f => new ZipField($"{record} {f.Name}", at + f.Offset, f.Width));

    /// <summary>The 8-byte values of a Zip64 extra field (id 1) among the extra fields at [at, at + length).</summary>
    private static IEnumerable<ZipField> Zip64Extra(string record, byte[] bytes, int at, int length)
    {
        var fields = new List<ZipField>();
        for (var end = at + length; at + 4 <= end;)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
            var size = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 2));
            for (var value = 0; id == 1 && value + 8 <= size; value += 8)
            {
                fields.Add(new ZipField($"{record} Zip64 value {value / 8}", at + 4 + value, 8));
            }
            at += 4 + size;
        }
        return fields;
    }
}

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
