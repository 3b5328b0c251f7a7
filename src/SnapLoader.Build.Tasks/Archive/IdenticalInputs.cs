namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Finds the inputs whose bytes are those of an earlier input, so the archive stores each content once (packages such
/// as LLamaSharp.Backend.Cpu and Whisper.net.Runtime ship the same file in several folders). Two files can only be the
/// same if they have the same size, so only inputs that share their size with another are read, and hashed on the
/// packing workers; a file of a size of its own costs nothing here. What is found by hashing is handed on, so that
/// the plan does not hash a kept input again where hashing would be a pass of its own.
/// </summary>
internal sealed class IdenticalInputs
{
    private IdenticalInputs(int[] storedAs, (byte[] Sha256, uint Crc32)?[] digests)
    {
        StoredAs = storedAs;
        Digests = digests;
    }

    /// <summary>For each input, the index of the first input (in input order) with the same bytes: its own for a kept input.</summary>
    public IReadOnlyList<int> StoredAs { get; }

    /// <summary>SHA-256 and CRC-32 of each input that was hashed to compare it; <see langword="null"/> for the others.</summary>
    public IReadOnlyList<(byte[] Sha256, uint Crc32)?> Digests { get; }

    /// <summary>How many inputs were read to be compared.</summary>
    public int Compared { get; private init; }

    /// <summary>Compares the inputs that share a size; failures are those of the packing jobs (SNAP0011 for a source that cannot be read).</summary>
    public static IdenticalInputs Find(
        IReadOnlyList<ArchiveInput> inputs, byte[][] encodedNames, long[] sizes, PackingContext context, int workers, CancellationToken cancellationToken)
    {
        var storedAs = Enumerable.Range(0, inputs.Count).ToArray();
        var digests = new (byte[] Sha256, uint Crc32)?[inputs.Count];
        var sizeCounts = sizes.GroupBy(size => size).ToDictionary(g => g.Key, g => g.Count());
        var candidates = Enumerable.Range(0, inputs.Count)
            .Where(i => sizeCounts[sizes[i]] > 1)
            .Select(i => new PlannedEntry(i, inputs[i], encodedNames[i], sizes[i], ZipFormat.MethodStored, []))
            .ToList();
        if (candidates.Count == 0)
        {
            return new IdenticalInputs(storedAs, digests);
        }

        var jobs = new List<PackingJob>(candidates.Count);
        foreach (var candidate in candidates)
        {
            candidate.AddJob();
            jobs.Add(new PackingJob(candidate, token => PackingJobs.Hash(candidate, context, countsProgress: false, token)));
        }
        using (var threads = new PackingWorkers(jobs, workers, cancellationToken))
        {
            threads.Start();
            foreach (var candidate in candidates)
            {
                while (!candidate.IsReady)
                {
                    threads.ThrowIfFailed();
                    threads.JobEnded.Wait(TimeSpan.FromMilliseconds(250), cancellationToken);
                }
            }
            threads.ThrowIfFailed();
        }
        cancellationToken.ThrowIfCancellationRequested();

        // In input order, so the first input of each content is the one whose entry is kept.
        var firstOfContent = new Dictionary<(long Size, string Sha256), int>();
        foreach (var candidate in candidates)
        {
            digests[candidate.Index] = (candidate.Sha256!, candidate.Crc32);
            var content = (candidate.Size, Convert.ToHexString(candidate.Sha256!));
            if (!firstOfContent.TryAdd(content, candidate.Index))
            {
                storedAs[candidate.Index] = firstOfContent[content];
            }
        }
        return new IdenticalInputs(storedAs, digests) { Compared = candidates.Count };
    }
}
