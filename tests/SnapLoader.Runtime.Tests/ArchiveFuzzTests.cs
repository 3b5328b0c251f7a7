using System.Diagnostics;
using System.IO.Hashing;
using SnapLoader.Build.Tasks.Archive;
using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// Damages valid archives at random, many times, and checks that every load either fails with a
/// <see cref="SnapLoaderException"/> or returns only verified files; never another exception, a hang, or a file that
/// differs from its source. Seeded and reproducible.
/// </summary>
/// <remarks>
/// <para>
/// What "verified" means. With a manifest: every file of the manifest loaded, sealed, and byte-identical to its
/// source (its SHA-256 is the manifest's). Without a manifest only the CRC-32 in the central directory protects the
/// content, and nothing protects the names or says which files should be there: a load counts as verified when every
/// file it returns is sealed, has exactly the size and CRC-32 its directory record gives, and is byte-identical to
/// the source written under that name (or, if the damage renamed the entry, to one of the sources). An entry damaged
/// into another safe name, or into a folder name, loads as such; that is what a ZIP without a manifest can promise.
/// </para>
/// <para>
/// Environment: SNAPLOADER_FUZZ_ITERATIONS (default 2000, about 10 s), SNAPLOADER_FUZZ_SEED (default fixed, so the test
/// command is deterministic; any number, or "random" to draw one), SNAPLOADER_FUZZ_ITERATION (run only that one, to
/// reproduce a failure), SNAPLOADER_FUZZ_TIMEOUT (seconds one load may take, default 20).
/// </para>
/// </remarks>
[TestClass]
[DoNotParallelize] // Counts this process's memory files.
public sealed class ArchiveFuzzTests
{
    private const int DefaultSeed = 20_240_607;
    private const int DefaultIterations = 2000;

    // Small ranges so that even these small entries take several ranges, in parallel.
    private static readonly LoaderSettings s_options = new() { RangeSize = 16 << 10, Parallelism = 4, EntryParallelism = 4, AllowAnyRangeSize = true };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task DamagedArchivesLoadVerifiedOrFailWithASnapLoaderError()
    {
        var seed = Environment.GetEnvironmentVariable("SNAPLOADER_FUZZ_SEED") switch
        {
            null or "" => DefaultSeed,
            "random" => Random.Shared.Next(),
            var text => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
        };
        var only = int.TryParse(Environment.GetEnvironmentVariable("SNAPLOADER_FUZZ_ITERATION"), out var one) ? one : (int?)null;
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("SNAPLOADER_FUZZ_ITERATIONS"), out var n) ? n : DefaultIterations;
        var timeout = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("SNAPLOADER_FUZZ_TIMEOUT"), out var s) ? s : 20);

        var folder = TestPaths.NewTempFolder("fuzz");
        var sources = WriteSources(folder);
        var variants = await PackVariantsAsync(folder, sources);
        var target = Path.Combine(folder, "damaged.zip");
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();

        for (var iteration = only ?? 0; iteration < (only + 1 ?? iterations); iteration++)
        {
            // One Random per iteration, from the seed and the iteration alone: any iteration reproduces by itself.
            var random = new Random(unchecked((seed * 1_000_003) + iteration));
            var variant = variants[random.Next(variants.Count)];
            var manifest = random.Next(2) == 0 ? variant.Manifest : null;
            var (bytes, steps) = ArchiveMutator.Mutate(variant.Bytes, variant.Layout, random);
            await File.WriteAllBytesAsync(target, bytes);

            var problem = await LoadOnceAsync(target, manifest, sources, timeout, outcomes);
            if (problem is not null)
            {
                var kept = Path.Combine(Path.GetTempPath(), "snaploader-tests", $"fuzz-failure-{seed}-{iteration}.zip");
                File.Copy(target, kept, overwrite: true);
                Assert.Fail($"Seed {seed}, iteration {iteration} ({variant.Name}, {(manifest is null ? "no manifest" : "manifest")}): {problem}\n" +
                    $"Damage: {string.Join("; ", steps)}\nArchive kept at {kept}.\n" +
                    $"Reproduce: SNAPLOADER_FUZZ_SEED={seed} SNAPLOADER_FUZZ_ITERATION={iteration} dotnet test tests/SnapLoader.Runtime.Tests --filter {nameof(DamagedArchivesLoadVerifiedOrFailWithASnapLoaderError)}");
            }
        }
        Directory.Delete(folder, recursive: true);
        TestContext.WriteLine($"seed {seed}: {(only is null ? iterations : 1)} damaged archives in {clock.Elapsed.TotalSeconds:F1} s; outcomes: " +
            string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
    }

    /// <summary>Loads once; returns what went wrong, or <see langword="null"/> for an acceptable outcome.</summary>
    private static async Task<string?> LoadOnceAsync(string archive, MovedFile[]? manifest, IReadOnlyDictionary<string, byte[]> sources, TimeSpan timeout, IDictionary<string, int> outcomes)
    {
        var before = TestArchives.OpenMemfds().Count;
        var load = Task.Run(async () =>
        {
            await using var source = LocalFileArchiveSource.Open(archive);
            return await ArchiveLoader.LoadAsync(source, manifest, null, s_options, CancellationToken.None);
        });
        IReadOnlyList<LoadedFile> loaded;
        try
        {
            loaded = await load.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return $"the load did not finish in {timeout.TotalSeconds} s (a hang)";
        }
        catch (SnapLoaderException e)
        {
            Count(outcomes, e.Code);
            var after = TestArchives.OpenMemfds().Count;
            return after == before ? null : $"{e.Code} left {after - before} memory files open: {e.Message}";
        }
        catch (Exception e)
        {
            return $"{e.GetType().FullName} instead of a SnapLoaderException:\n{e}";
        }

        try
        {
            var problem = manifest is null ? CheckCrcVerified(loaded, sources) : CheckManifestVerified(loaded, manifest, sources);
            Count(outcomes, manifest is null ? "loaded (CRC-32)" : "loaded (SHA-256)");
            return problem;
        }
        finally
        {
            TestArchives.DisposeAll(loaded);
        }
    }

    private static string? CheckManifestVerified(IReadOnlyList<LoadedFile> loaded, MovedFile[] manifest, IReadOnlyDictionary<string, byte[]> sources)
    {
        if (loaded.Count != manifest.Length)
        {
            return $"{loaded.Count} files loaded, the manifest has {manifest.Length}";
        }
        for (var i = 0; i < manifest.Length; i++)
        {
            if (loaded[i].RelativePath != manifest[i].RelativePath || !loaded[i].File.IsSealed)
            {
                return $"file {i} is '{loaded[i].RelativePath}' (sealed: {loaded[i].File.IsSealed}), expected sealed '{manifest[i].RelativePath}'";
            }
            if (!File.ReadAllBytes(loaded[i].File.ProcPath).AsSpan().SequenceEqual(sources[manifest[i].RelativePath]))
            {
                return $"'{manifest[i].RelativePath}' loaded without error but differs from its source";
            }
        }
        return null;
    }

    private static string? CheckCrcVerified(IReadOnlyList<LoadedFile> loaded, IReadOnlyDictionary<string, byte[]> sources)
    {
        foreach (var file in loaded)
        {
            var content = File.ReadAllBytes(file.File.ProcPath);
            if (!file.File.IsSealed || content.Length != file.Entry.Size || Crc32.HashToUInt32(content) != file.Entry.Crc32)
            {
                return $"'{file.RelativePath}' loaded without error but is not what its directory record says (sealed: {file.File.IsSealed}, " +
                    $"{content.Length:N0} bytes for {file.Entry.Size:N0}, CRC-32 {Crc32.HashToUInt32(content):x8} for {file.Entry.Crc32:x8})";
            }
            var identical = sources.TryGetValue(file.RelativePath, out var expected)
                ? content.AsSpan().SequenceEqual(expected)
                : sources.Values.Any(s => content.AsSpan().SequenceEqual(s));
            if (!identical)
            {
                return $"'{file.RelativePath}' loaded without error, matching its CRC-32, but differs from the source it was written from";
            }
        }
        return null;
    }

    private static void Count(IDictionary<string, int> outcomes, string outcome) =>
        outcomes[outcome] = outcomes.TryGetValue(outcome, out var count) ? count + 1 : 1;

    /// <summary>Four files: compressible, incompressible (stored even in a compressed archive), tiny, and empty.</summary>
    private static Dictionary<string, byte[]> WriteSources(string folder)
    {
        var random = new Random(7);
        var incompressible = new byte[40_000];
        random.NextBytes(incompressible);
        var compressible = new byte[120_000];
        random.NextBytes(compressible);
        for (var i = 0; i < compressible.Length; i++)
        {
            compressible[i] &= 0x0F;
        }
        var sources = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["lib/libfirst.so"] = compressible,
            ["models/weights.bin"] = incompressible,
            ["data/small.txt"] = "a small text file, shorter than one range\n"u8.ToArray(),
            ["empty.txt"] = [],
        };
        foreach (var (name, content) in sources)
        {
            var path = Path.Combine(folder, "tree", name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
        }
        return sources;
    }

    private sealed record Variant(string Name, byte[] Bytes, ArchiveLayout Layout, MovedFile[] Manifest);

    /// <summary>The build's writer with each compression, and Info-ZIP's Zip64 records (zip -fz) for the Zip64 paths.</summary>
    private static async Task<List<Variant>> PackVariantsAsync(string folder, IReadOnlyDictionary<string, byte[]> sources)
    {
        var tree = Path.Combine(folder, "tree");
        var names = sources.Keys.ToArray();
        var archives = new List<(string Name, string Path)>();
        foreach (var compression in new[] { ArchiveCompression.Stored, ArchiveCompression.Deflate, ArchiveCompression.Zstd })
        {
            var packed = ArchiveWriter.Write(Path.Combine(folder, $"{compression}.zip"), names.Select(n => new ArchiveInput(n, Path.Combine(tree, n))).ToArray(),
                compression, 0, 1, null, CancellationToken.None);
            archives.Add(($"writer {compression}", packed.Path));
        }
        ProcessRunner.Run("zip", ["-q", "-fz", "-D", "-X", "../infozip64.zip", .. names], tree).EnsureSuccess("zip -fz");
        archives.Add(("Info-ZIP Zip64", Path.Combine(folder, "infozip64.zip")));

        var variants = new List<Variant>();
        foreach (var (name, path) in archives)
        {
            var manifest = names.Select(n => new MovedFile(n, sources[n].Length, Sha256Hex.Of(sources[n]), MovedFileKind.Data)).ToArray();
            variants.Add(new Variant(name, await File.ReadAllBytesAsync(path), ArchiveLayout.Read(path), manifest));
        }
        return variants;
    }
}
