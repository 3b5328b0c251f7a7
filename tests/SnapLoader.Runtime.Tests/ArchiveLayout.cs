using System.Buffers.Binary;
using SnapLoader.Tests;

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
    /// <summary>Reads the layout of a valid archive.</summary>
    public static ArchiveLayout Read(string archive)
    {
        var bytes = File.ReadAllBytes(archive);
        var zip = ZipListing.Read(bytes);
        var headers = new List<(int, int)>();
        var data = new List<(int, int)>();
        var fields = new List<ZipField>();
        foreach (var entry in zip.Entries)
        {
            var at = (int)entry.LocalHeaderOffset;
            var dataOffset = (int)entry.DataOffset;
            headers.Add((at, dataOffset));
            data.Add((dataOffset, dataOffset + (int)entry.CompressedSize));
            fields.AddRange(Fixed("local", at, (6, 2, "flags"), (8, 2, "method"), (14, 4, "crc"), (18, 4, "compressed size"), (22, 4, "size"), (26, 2, "name length"), (28, 2, "extra length")));
            fields.AddRange(Zip64Extra("local", bytes, (int)entry.Local.ExtraOffset, entry.Local.ExtraLength));
        }

        var end = (int)zip.EndRecordOffset;
        var endRecords = end;
        if (zip.Zip64LocatorOffset is { } locator)
        {
            endRecords = (int)zip.Zip64EndRecordOffset!.Value;
            fields.AddRange(Fixed("Zip64 end", endRecords, (24, 8, "entries on disk"), (32, 8, "entries"), (40, 8, "directory length"), (48, 8, "directory offset")));
            fields.AddRange(Fixed("Zip64 locator", (int)locator, (8, 8, "Zip64 end offset")));
        }
        fields.AddRange(Fixed("end", end, (8, 2, "entries on disk"), (10, 2, "entries"), (12, 4, "directory length"), (16, 4, "directory offset"), (20, 2, "comment length")));

        foreach (var entry in zip.Entries)
        {
            fields.AddRange(Fixed("central", (int)entry.CentralRecordOffset, (8, 2, "flags"), (10, 2, "method"), (16, 4, "crc"), (20, 4, "compressed size"), (24, 4, "size"),
                (28, 2, "name length"), (30, 2, "extra length"), (32, 2, "comment length"), (34, 2, "disk"), (38, 4, "attributes"), (42, 4, "local header offset")));
            fields.AddRange(Zip64Extra("central", bytes, (int)entry.CentralExtraOffset, entry.CentralExtraLength));
        }
        return new ArchiveLayout(headers, data, (int)zip.DirectoryOffset, endRecords, bytes.Length, fields);
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
