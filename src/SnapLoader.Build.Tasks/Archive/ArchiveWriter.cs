using System.Buffers;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Writes the archive the runtime fetches by byte range: a standard ZIP (Zip64 when needed) whose
/// entries are stored, deflated or zstd-compressed.
/// </summary>
/// <remarks>
/// The ZIP is written by hand rather than with System.IO.Compression.ZipArchive because ZipArchive
/// cannot write method 93 (zstd); compresses one entry at a time, so neither several entries nor one
/// large file can use more than one core; cannot hash each file while it compresses it; and stamps
/// entries with the time (and, on Unix, the file mode) of the machine, where we need fixed metadata so
/// that the same files always give the same archive and therefore the same S3 key.
/// </remarks>
public static class ArchiveWriter
{
    /// <summary>
    /// Packs <paramref name="inputs"/>, in the given order (the runtime's load order), into a new archive
    /// at <paramref name="destinationPath"/>, replacing any file there only once the new one is complete.
    /// Inputs with the same bytes (same size and SHA-256) are stored once, under the name of the first of them;
    /// <see cref="PackedArchive.Duplicates"/> lists the others.
    /// </summary>
    /// <param name="destinationPath">The archive to create; its folder is created if missing.</param>
    /// <param name="inputs">Entry names and the files they come from.</param>
    /// <param name="compression">How to compress the entries. An entry that would not shrink is stored.</param>
    /// <param name="level">
    /// Compression level, 0 for the default: deflate 1-9 (1-3 fastest, 4-6 optimal, 7-9 smallest),
    /// zstd 1-22. See <see cref="ArchiveCompressionLevels"/>. Ignored for <see cref="ArchiveCompression.Stored"/>.
    /// </param>
    /// <param name="maxParallelism">Most threads to compress with; 0 or less means one per processor. Never changes the bytes written.</param>
    /// <param name="progress">Receives a short line at least every 10% of the bytes or every 5 seconds, always on the calling thread.</param>
    /// <param name="cancellationToken">Stops the work; nothing is left behind.</param>
    /// <returns>The archive, with the SHA-256 and placement of every entry, and the inputs stored under another's entry.</returns>
    /// <exception cref="SnapLoaderBuildException">
    /// SNAP0010 when the archive cannot be written (names the archive); SNAP0011 when a source cannot be
    /// read (names the source); SNAP0012 when an entry name is malformed or two inputs share one.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static PackedArchive Write(
        string destinationPath,
        IReadOnlyList<ArchiveInput> inputs,
        ArchiveCompression compression,
        int level,
        int maxParallelism,
        Action<string>? progress,
        CancellationToken cancellationToken) =>
        Write(destinationPath, inputs, compression, level, maxParallelism, progress, ArchiveWriterSettings.Default, cancellationToken);

    /// <summary>As the public overload, with settings tests use to reach Zip64 and multi-piece paths cheaply.</summary>
    internal static PackedArchive Write(
        string destinationPath,
        IReadOnlyList<ArchiveInput> inputs,
        ArchiveCompression compression,
        int level,
        int maxParallelism,
        Action<string>? progress,
        ArchiveWriterSettings settings,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(settings);
        if (!Enum.IsDefined(compression))
        {
            throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown compression.");
        }
        var resolvedLevel = ArchiveCompressionLevels.Resolve(compression, level);
        var workers = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount;
        var destination = Path.GetFullPath(destinationPath);

        // Everything that can be checked without writing is checked first, so a bad input leaves no trace.
        var names = EntryNames.EncodeAll(inputs);
        var sizes = MeasureSources(inputs);
        cancellationToken.ThrowIfCancellationRequested();

        var folder = Path.GetDirectoryName(destination)
            ?? throw ArchiveErrors.WriteFailed(destination, "it has no parent folder.");
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(destination, e.Message, e);
        }

        // Beside the archive (same file system, so the final move is a rename), hidden, and unique to
        // this call so two builds writing the same archive cannot trip over each other's files.
        var unique = Guid.NewGuid().ToString("N");
        var fileName = Path.GetFileName(destination);
        var temporaryPath = Path.Combine(folder, $".{fileName}.{unique}.tmp");
        var scratchFolder = Path.Combine(folder, $".{fileName}.{unique}.parts");

        var methodText = compression == ArchiveCompression.Stored ? "stored" : $"{compression.ToString().ToLowerInvariant()} level {resolvedLevel}";
        try
        {
            // Only files that share a size with another are read here; each content then gets one entry.
            var identical = IdenticalInputs.Find(inputs, names, sizes,
                new PackingContext(destination, scratchFolder, compression, resolvedLevel, new ArchiveProgress(null, fileName, 0), settings),
                workers, cancellationToken);
            var kept = Enumerable.Range(0, inputs.Count).Where(i => identical.StoredAs[i] == i).ToArray();
            var context = new PackingContext(destination, scratchFolder, compression, resolvedLevel,
                new ArchiveProgress(progress, fileName, kept.Sum(i => sizes[i])), settings);
            var plan = PackingPlan.Create(
                kept.Select(i => inputs[i]).ToArray(),
                kept.Select(i => names[i]).ToArray(),
                kept.Select(i => sizes[i]).ToArray(),
                kept.Select(i => identical.Digests[i]).ToArray(),
                context);
            var duplicates = Enumerable.Range(0, inputs.Count)
                .Where(i => identical.StoredAs[i] != i)
                .Select(i => new DuplicateInput(inputs[i].EntryName, inputs[identical.StoredAs[i]].EntryName))
                .ToArray();
            if (plan.NeedsScratch)
            {
                CreateScratchFolder(scratchFolder, destination);
            }

            IReadOnlyList<ArchiveEntry> entries;
            string sha256;
            long length;
            using (var workerThreads = new PackingWorkers(plan.Jobs, workers, cancellationToken))
            using (var output = ArchiveOutput.Create(temporaryPath, destination))
            {
                workerThreads.Start();
                context.Progress.Start(plan.Entries.Count, methodText, workers);
                entries = WriteEntries(plan, context, workerThreads, output, cancellationToken);
                output.Write(WriteCentralDirectory(plan, entries, output.Position, context.Settings.ForceZip64));
                length = output.Position;
                sha256 = output.Complete();
            }

            try
            {
                File.Move(temporaryPath, destination, overwrite: true);
            }
            catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
            {
                throw ArchiveErrors.WriteFailed(destination, e.Message, e);
            }
            context.Progress.Finish(entries.Count, length);
            return new PackedArchive(destination, sha256, length, entries) { Duplicates = duplicates };
        }
        catch
        {
            DeleteQuietly(temporaryPath);
            throw;
        }
        finally
        {
            DeleteFolderQuietly(scratchFolder);
        }
    }

    private static long[] MeasureSources(IReadOnlyList<ArchiveInput> inputs)
    {
        var sizes = new long[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (string.IsNullOrEmpty(input.SourcePath))
            {
                throw ArchiveErrors.SourceUnreadable("", input.EntryName, "no source path was given.");
            }
            try
            {
                var info = new FileInfo(input.SourcePath);
                if (!info.Exists)
                {
                    throw ArchiveErrors.SourceUnreadable(
                        input.SourcePath,
                        input.EntryName,
                        Directory.Exists(input.SourcePath) ? "it is a folder, not a file." : "the file does not exist.");
                }
                sizes[i] = info.Length;
            }
            catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e) || e is ArgumentException)
            {
                throw ArchiveErrors.SourceUnreadable(input.SourcePath, input.EntryName, e.Message, e);
            }
        }
        return sizes;
    }

    /// <summary>
    /// Appends the entries in plan order, each as soon as its jobs are done, and reports progress
    /// meanwhile. Returns them as written.
    /// </summary>
    private static List<ArchiveEntry> WriteEntries(
        PackingPlan plan,
        PackingContext context,
        PackingWorkers workers,
        ArchiveOutput output,
        CancellationToken cancellationToken)
    {
        var entries = new List<ArchiveEntry>(plan.Entries.Count);
        var buffer = ArrayPool<byte>.Shared.Rent(context.Settings.BufferSize);
        try
        {
            foreach (var planned in plan.Entries)
            {
                while (!planned.IsReady)
                {
                    workers.ThrowIfFailed();
                    workers.JobEnded.Wait(TimeSpan.FromMilliseconds(250), cancellationToken);
                    context.Progress.Poll();
                }
                workers.ThrowIfFailed();
                cancellationToken.ThrowIfCancellationRequested();

                var compressedSize = 0L;
                foreach (var part in planned.PartPaths)
                {
                    compressedSize += PartLength(part, context.DestinationPath);
                }
                var seekTable = SeekTableFor(planned, context);
                compressedSize += seekTable.Length;

                // Keep what zip itself does: data that did not shrink is stored as it is.
                var stored = planned.Method == ZipFormat.MethodStored || compressedSize >= planned.Size;
                var header = new ZipEntryHeader(
                    planned.EncodedName,
                    !EntryNames.IsAscii(planned.EncodedName),
                    stored ? ZipFormat.MethodStored : planned.Method,
                    planned.Crc32,
                    planned.Size,
                    stored ? planned.Size : compressedSize,
                    output.Position,
                    context.Settings.ForceZip64);
                output.Write(ZipRecords.LocalFileHeader(header));
                if (stored)
                {
                    CopySource(planned, output, buffer, context, cancellationToken);
                }
                else
                {
                    foreach (var part in planned.PartPaths)
                    {
                        CopyPart(part, output, buffer, context, cancellationToken);
                    }
                    output.Write(seekTable);
                }
                foreach (var part in planned.PartPaths)
                {
                    // Freed as soon as it is copied: the scratch folder never holds much more than the entries in flight.
                    DeleteQuietly(part);
                }

                entries.Add(new ArchiveEntry(
                    planned.Input.EntryName,
                    planned.Size,
                    header.CompressedSize,
                    Convert.ToHexString(planned.Sha256!).ToLowerInvariant(),
                    planned.Crc32,
                    header.Method,
                    header.LocalHeaderOffset)
                {
                    DataOffset = header.LocalHeaderOffset + header.LocalHeaderLength,
                });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return entries;
    }

    private static byte[] WriteCentralDirectory(PackingPlan plan, IReadOnlyList<ArchiveEntry> entries, long offset, bool forceZip64)
    {
        using var directory = new MemoryStream();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var name = plan.Entries[i].EncodedName;
            directory.Write(ZipRecords.CentralDirectoryHeader(new ZipEntryHeader(
                name,
                !EntryNames.IsAscii(name),
                entry.Method,
                entry.Crc32,
                entry.Size,
                entry.CompressedSize,
                entry.LocalHeaderOffset,
                forceZip64)));
        }
        var directoryLength = directory.Length;
        directory.Write(ZipRecords.EndRecords(entries.Count, offset, directoryLength, forceZip64));
        return directory.ToArray();
    }

    private static void CopySource(PlannedEntry entry, ArchiveOutput output, byte[] buffer, PackingContext context, CancellationToken cancellationToken)
    {
        // The hash job measured this file; the reader fails (SNAP0011) if it has changed length since.
        using var reader = SourceReader.Open(entry.Input.SourcePath, entry.Input.EntryName, 0, entry.Size);
        int read;
        while ((read = reader.Read(buffer.AsSpan(0, context.Settings.BufferSize))) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            output.Write(buffer.AsSpan(0, read));
            context.Progress.Poll();
        }
        reader.EnsureAtEndOfFile();
    }

    private static void CopyPart(string path, ArchiveOutput output, byte[] buffer, PackingContext context, CancellationToken cancellationToken)
    {
        try
        {
            using var part = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, bufferSize: 0, FileOptions.SequentialScan);
            int read;
            while ((read = part.Read(buffer, 0, context.Settings.BufferSize)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                output.Write(buffer.AsSpan(0, read));
                context.Progress.Poll();
            }
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(context.DestinationPath, e.Message, e);
        }
    }

    /// <summary>The seek table a zstd entry of several frames ends with; empty for every other entry.</summary>
    private static byte[] SeekTableFor(PlannedEntry planned, PackingContext context)
    {
        if (planned.Method != ZipFormat.MethodZstd || planned.PartPaths.Length < 2)
        {
            return [];
        }
        return ZstdSeekTable.Build(planned.PartPaths
            .Select((part, k) => (PartLength(part, context.DestinationPath), PackingJobs.PieceRange(planned, k, context.Settings.ZstdFrameSize).Length))
            .ToList());
    }

    private static long PartLength(string path, string destinationPath)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(destinationPath, e.Message, e);
        }
    }

    private static void CreateScratchFolder(string scratchFolder, string destination)
    {
        try
        {
            Directory.CreateDirectory(scratchFolder);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            throw ArchiveErrors.WriteFailed(destination, e.Message, e);
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            // Best effort on a path that is ours alone; the error that matters is already being reported.
        }
    }

    private static void DeleteFolderQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (ArchiveErrors.IsFileSystemFailure(e))
        {
            // As above: only ever our own scratch folder.
        }
    }
}
