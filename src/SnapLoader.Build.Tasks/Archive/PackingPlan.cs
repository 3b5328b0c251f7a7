namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Splits the inputs into jobs, in the caller's order so the writer can append entries as soon as
/// their jobs finish and scratch files live only briefly:
/// <list type="bullet">
/// <item>stored: one job that hashes the file (the writer copies it later);</item>
/// <item>zstd up to one frame's size: one job that hashes and compresses the file in the same pass;</item>
/// <item>deflate, and zstd beyond one frame: one hashing job plus one job per piece (a deflate piece, or a
/// zstd frame), so one large file keeps every worker busy. The hashing job is left out when the digests are
/// known already (<see cref="IdenticalInputs"/> hashed the file to compare it).</item>
/// </list>
/// </summary>
internal sealed class PackingPlan
{
    private PackingPlan(IReadOnlyList<PlannedEntry> entries, IReadOnlyList<PackingJob> jobs, long totalBytes)
    {
        Entries = entries;
        Jobs = jobs;
        TotalBytes = totalBytes;
    }

    public IReadOnlyList<PlannedEntry> Entries { get; }

    public IReadOnlyList<PackingJob> Jobs { get; }

    /// <summary>Bytes of source the progress counts: each source byte once.</summary>
    public long TotalBytes { get; }

    /// <summary>True when some job writes scratch files (anything but stored entries).</summary>
    public bool NeedsScratch => Entries.Any(e => e.PartPaths.Length > 0);

    public static PackingPlan Create(
        IReadOnlyList<ArchiveInput> inputs,
        byte[][] encodedNames,
        long[] sizes,
        IReadOnlyList<(byte[] Sha256, uint Crc32)?> knownDigests,
        PackingContext context)
    {
        var entries = new List<PlannedEntry>(inputs.Count);
        var jobs = new List<PackingJob>();
        var requested = ArchiveCompressionLevels.ZipMethod(context.Compression);
        long total = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var size = sizes[i];
            total += size;

            // An empty file cannot shrink; storing it spares readers an empty compressed stream.
            var method = size == 0 ? ZipFormat.MethodStored : requested;
            var pieces = method switch
            {
                ZipFormat.MethodDeflate => PieceCount(size, context.Settings.DeflatePieceSize),
                ZipFormat.MethodZstd => PieceCount(size, context.Settings.ZstdFrameSize),
                _ => 0,
            };
            var parts = new string[pieces];
            for (var k = 0; k < pieces; k++)
            {
                parts[k] = context.PartPath(i, k);
            }
            var entry = new PlannedEntry(i, inputs[i], encodedNames[i], size, method, parts);
            entries.Add(entry);
            var known = knownDigests[i];

            switch (method)
            {
                case ZipFormat.MethodZstd when pieces == 1:
                    Add(jobs, entry, token => PackingJobs.HashAndCompressZstd(entry, context, token));
                    break;
                case ZipFormat.MethodZstd:
                    AddHashUnlessKnown(jobs, entry, known, context);
                    for (var k = 0; k < pieces; k++)
                    {
                        var piece = k;
                        Add(jobs, entry, token => PackingJobs.CompressZstdFrame(entry, piece, context, token));
                    }
                    break;
                case ZipFormat.MethodDeflate:
                    AddHashUnlessKnown(jobs, entry, known, context);
                    for (var k = 0; k < pieces; k++)
                    {
                        var piece = k;
                        Add(jobs, entry, token => PackingJobs.CompressDeflatePiece(entry, piece, context, token));
                    }
                    break;
                default:
                    Add(jobs, entry, token => PackingJobs.Hash(entry, context, countsProgress: true, token));
                    break;
            }
        }
        return new PackingPlan(entries, jobs, total);
    }

    private static int PieceCount(long size, int pieceSize) => (int)Math.Max(1, (size + pieceSize - 1) / pieceSize);

    // Set here, on the writer's thread, before any worker starts: the writer reads them as it reads its own writes.
    private static void AddHashUnlessKnown(List<PackingJob> jobs, PlannedEntry entry, (byte[] Sha256, uint Crc32)? known, PackingContext context)
    {
        if (known is { } digests)
        {
            entry.Sha256 = digests.Sha256;
            entry.Crc32 = digests.Crc32;
            return;
        }
        Add(jobs, entry, token => PackingJobs.Hash(entry, context, countsProgress: false, token));
    }

    private static void Add(List<PackingJob> jobs, PlannedEntry entry, Action<CancellationToken> work)
    {
        entry.AddJob();
        jobs.Add(new PackingJob(entry, work));
    }
}
