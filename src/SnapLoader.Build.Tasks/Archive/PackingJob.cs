namespace SnapLoader.Build.Tasks.Archive;

/// <summary>One unit of work for a packing worker, and the entry it counts towards.</summary>
/// <param name="Entry">The entry whose pending-job count drops when <paramref name="Work"/> returns.</param>
/// <param name="Work">Reads (and maybe compresses) part of one source; honours the token.</param>
internal sealed record PackingJob(PlannedEntry Entry, Action<CancellationToken> Work);
