namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// One input on its way into the archive: what the workers must do for it and what they found.
/// Workers fill the results and then count the entry's pending jobs down; the writer reads the results
/// only after that count reaches zero (the interlocked decrement publishes them).
/// </summary>
internal sealed class PlannedEntry
{
    private int _pendingJobs;

    public PlannedEntry(int index, ArchiveInput input, byte[] encodedName, long size, ushort method, string[] partPaths)
    {
        Index = index;
        Input = input;
        EncodedName = encodedName;
        Size = size;
        Method = method;
        PartPaths = partPaths;
    }

    public int Index { get; }

    public ArchiveInput Input { get; }

    public byte[] EncodedName { get; }

    public long Size { get; }

    /// <summary>The method asked for; the writer may still store the entry if it did not shrink.</summary>
    public ushort Method { get; }

    /// <summary>Scratch files holding the compressed data, in order; empty for a stored entry.</summary>
    public string[] PartPaths { get; }

    /// <summary>SHA-256 of the source, set by the digest job.</summary>
    public byte[]? Sha256 { get; set; }

    /// <summary>CRC-32 of the source, set by the digest job.</summary>
    public uint Crc32 { get; set; }

    /// <summary>True once every job of this entry has finished successfully.</summary>
    public bool IsReady => Volatile.Read(ref _pendingJobs) == 0;

    /// <summary>Called once per job while planning.</summary>
    public void AddJob() => _pendingJobs++;

    /// <summary>Called by a worker when one of this entry's jobs has finished.</summary>
    public void CompleteJob() => Interlocked.Decrement(ref _pendingJobs);
}
