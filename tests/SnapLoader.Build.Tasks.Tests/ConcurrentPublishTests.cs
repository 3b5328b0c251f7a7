using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Build.Framework;
using TaskItem = Microsoft.Build.Utilities.TaskItem;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// Two publishes of one project at the same time: their tasks run at once on the same intermediate
/// folder, deps file, bootstrap, bucket and key. None may fail or see a half-written file, and what ends
/// up on disk and in S3 must be whole.
/// </summary>
/// <remarks>Sets AWS_* environment variables of this process, as a publish takes its credentials from them.</remarks>
[TestClass]
[DoNotParallelize]
public sealed class ConcurrentPublishTests
{
    private const int Publishes = 3;
    private const int Rounds = 4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void PacksAtOnceInOneFolder_AllSucceedAndLeaveOneCompleteArchive()
    {
        var folder = TestPaths.NewTempFolder("pack-concurrent");
        var obj = Directory.CreateDirectory(Path.Combine(folder, "obj")).FullName;
        var files = SourceFiles(folder);

        for (var round = 0; round < Rounds; round++)
        {
            // Without the stamp every publish packs: the case where they can trip over each other.
            File.Delete(Path.Combine(obj, "archive.stamp.json"));
            var packs = RunAtOnce(_ => Pack(obj, files));

            foreach (var pack in packs)
            {
                Assert.IsTrue(pack.Succeeded, $"round {round}: {pack.Engine.AllText}");
            }
            var sha256 = packs[0].Task.ArchiveSha256;
            Assert.IsTrue(packs.All(p => p.Task.ArchiveSha256 == sha256 && p.Task.ArchivePath == packs[0].Task.ArchivePath), $"round {round}");
            AssertOnlyTheArchive(obj, sha256);
        }
    }

    [TestMethod]
    public async Task PublishesAtOnce_PackAndUploadTheSameCompleteArchive()
    {
        await using var server = await S3rverServer.StartAsync();
        var folder = TestPaths.NewTempFolder("publish-concurrent");
        var obj = Directory.CreateDirectory(Path.Combine(folder, "obj")).FullName;
        var files = SourceFiles(folder);
        using var environment = new EnvironmentScope(server.AwsVariables());
        using var client = server.CreateClient();
        // S3 never shows a partly written object, but s3rver answers a HEAD that comes during a PUT with
        // what it has written so far, which the uploader rightly takes for another object (SNAP0036).
        // Holding each upload until s3rver has answered every publish's HEAD gives S3's view of publishes
        // at once: none finds the object, and all upload it together.
        await using var proxy = FaultProxy.Start(server.ServiceUrl, new FaultRule
        {
            When = r => r.Method is "PUT" or "POST",
            Fault = Fault.HoldUntil(r => server.WaitForRequestsAsync(l => l.StartsWith($"HEAD /{r.Bucket}/", StringComparison.Ordinal), Publishes, TimeSpan.FromSeconds(30))),
        });

        for (var round = 0; round < Rounds; round++)
        {
            var bucket = $"concurrent-{round}";
            await server.CreateBucketAsync(bucket);
            File.Delete(Path.Combine(obj, "archive.stamp.json"));
            // Each publish packs, then uploads what its pack produced, as the targets chain them.
            var publishes = RunAtOnce(_ =>
            {
                var pack = Pack(obj, files);
                if (!pack.Succeeded)
                {
                    return (Succeeded: false, Uploaded: false, Text: pack.Engine.AllText, Sha256: "");
                }
                var engine = new RecordingBuildEngine();
                var upload = new UploadArchive
                {
                    BuildEngine = engine,
                    ArchivePath = pack.Task.ArchivePath,
                    ArchiveSha256 = pack.Task.ArchiveSha256,
                    Bucket = bucket,
                    Key = "snaploader/" + pack.Task.ArchiveFileName,
                    Region = "us-east-1",
                    ServiceUrl = proxy.ServiceUrl,
                };
                var succeeded = upload.Execute();
                return (Succeeded: succeeded, upload.Uploaded, Text: engine.AllText, Sha256: pack.Task.ArchiveSha256);
            });

            foreach (var (succeeded, uploaded, text, _) in publishes)
            {
                Assert.IsTrue(succeeded, $"round {round}: {text}");
                // Each found no object and sent the archive: the uploads overlapped.
                Assert.IsTrue(uploaded, $"round {round}: {text}");
            }
            var sha256 = publishes[0].Sha256;
            Assert.IsTrue(publishes.All(p => p.Sha256 == sha256), $"round {round}");
            AssertOnlyTheArchive(obj, sha256);
            var key = $"snaploader/{sha256}.zip";
            Assert.AreEqual(sha256, await server.Sha256OfObjectAsync(bucket, key, TestContext.CancellationToken), $"round {round}");
            var head = await client.GetObjectMetadataAsync(bucket, key, TestContext.CancellationToken);
            Assert.AreEqual(sha256, head.Metadata["x-amz-meta-sha256"]);
        }
        Directory.Delete(folder, recursive: true);
    }

    [TestMethod]
    public void DepsFileRewrittenByPublishesAtOnce_AllSucceedAndItIsWhole()
    {
        var folder = TestPaths.NewTempFolder("deps-concurrent");
        var deps = Path.Combine(folder, "Function.deps.json");
        var moved = new TaskItem("/packages/runtimes/linux-x64/native/libonnxruntime.so");
        moved.SetMetadata("SnapLoaderRelativePath", "libonnxruntime.so");
        moved.SetMetadata("NuGetPackageId", "Microsoft.ML.OnnxRuntime");
        moved.SetMetadata("NuGetPackageVersion", "1.31.1");
        moved.SetMetadata("PathInPackage", "runtimes/linux-x64/native/libonnxruntime.so");

        for (var round = 0; round < Rounds; round++)
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnxruntime-linux-x64.deps.json"), deps, overwrite: true);
            var rewrites = RunAtOnce(_ =>
            {
                var engine = new RecordingBuildEngine();
                var task = new RewriteDepsFile { BuildEngine = engine, DepsFile = deps, MovedFiles = [moved] };
                return (Succeeded: task.Execute(), engine.AllText);
            });

            foreach (var (succeeded, text) in rewrites)
            {
                Assert.IsTrue(succeeded, $"round {round}: {text}");
            }
            var native = JsonNode.Parse(File.ReadAllText(deps))!["targets"]![".NETCoreApp,Version=v8.0/linux-x64"]!["Microsoft.ML.OnnxRuntime/1.31.1"]!["native"]!.AsObject();
            CollectionAssert.AreEqual(new[] { "runtimes/linux-x64/native/libonnxruntime_providers_shared.so" }, native.Select(p => p.Key).ToArray());
            CollectionAssert.AreEqual(new[] { "Function.deps.json" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
        }
    }

    [TestMethod]
    public void BootstrapRewrittenWhileAnotherPublishReadsIt_IsNeverSeenHalfWritten()
    {
        var folder = TestPaths.NewTempFolder("bootstrap-concurrent");
        var output = Path.Combine(folder, "SnapLoaderBootstrap.g.cs");
        // Two publishes that disagree (another bucket) rewrite the file each time; a third reads it, as
        // its compiler would.
        var one = Bootstrap(output, "bucket-one");
        var two = Bootstrap(output, "bucket-two");
        var texts = new HashSet<string>(StringComparer.Ordinal) { one.Render(), two.Render() };
        using var done = new CancellationTokenSource();
        var seen = new List<string>();
        var reader = Task.Factory.StartNew(() =>
        {
            while (!done.IsCancellationRequested)
            {
                if (File.Exists(output) && File.ReadAllText(output) is var text && !texts.Contains(text))
                {
                    seen.Add(text);
                    return;
                }
            }
        }, TaskCreationOptions.LongRunning);

        for (var i = 0; i < 200 && !reader.IsCompleted; i++)
        {
            Assert.IsTrue((i % 2 == 0 ? one : two).Execute());
        }
        done.Cancel();
        reader.GetAwaiter().GetResult();

        Assert.IsEmpty(seen, $"read a bootstrap of {seen.FirstOrDefault()?.Length} characters, neither of the two written");
        CollectionAssert.AreEqual(new[] { "SnapLoaderBootstrap.g.cs" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
    }

    private static GenerateBootstrap Bootstrap(string output, string bucket) => BootstrapInputs.Bootstrap(output, bucket,
        Enumerable.Range(0, 50).Select(i => BootstrapInputs.Packed($"lib{i}.so", "NativeLibrary", soname: $"lib{i}.so")).ToArray());

    /// <summary>The archive named by its hash, with those bytes, and no temporary or stale file beside it.</summary>
    private static void AssertOnlyTheArchive(string obj, string sha256)
    {
        var archive = Path.Combine(obj, sha256 + ".zip");
        Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive))));
        CollectionAssert.AreEquivalent(
            new[] { sha256 + ".zip", "archive.stamp.json" },
            Directory.GetFileSystemEntries(obj).Select(Path.GetFileName).ToArray());
    }

    /// <summary>Runs <paramref name="work"/> on <see cref="Publishes"/> threads released at the same moment.</summary>
    private static T[] RunAtOnce<T>(Func<int, T> work)
    {
        using var start = new Barrier(Publishes);
        var threads = Enumerable.Range(0, Publishes)
            .Select(i => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return work(i);
            }, TaskCreationOptions.LongRunning))
            .ToArray();
        return Task.WhenAll(threads).GetAwaiter().GetResult();
    }

    private static PackRun Pack(string obj, ITaskItem[] files)
    {
        var engine = new RecordingBuildEngine();
        var task = new PackArchive { BuildEngine = engine, Files = files, IntermediateDirectory = obj, Compression = "Zstd", CompressionLevel = "1", MaxParallelism = 1 };
        return new PackRun(task, task.Execute(), engine);
    }

    /// <summary>Moved files of a few megabytes, half of them compressible, as PackArchive receives them.</summary>
    private static ITaskItem[] SourceFiles(string folder)
    {
        var random = new Random(7);
        return Enumerable.Range(0, 3).Select(i =>
        {
            var bytes = new byte[3_000_000];
            random.NextBytes(bytes.AsSpan(0, bytes.Length / 2));
            var path = Path.Combine(folder, $"lib{i}.so");
            File.WriteAllBytes(path, bytes);
            var item = new TaskItem(path);
            item.SetMetadata("SnapLoaderRelativePath", $"lib{i}.so");
            item.SetMetadata("SnapLoaderKind", "Data");
            return (ITaskItem)item;
        }).ToArray();
    }

    private sealed record PackRun(PackArchive Task, bool Succeeded, RecordingBuildEngine Engine);
}
