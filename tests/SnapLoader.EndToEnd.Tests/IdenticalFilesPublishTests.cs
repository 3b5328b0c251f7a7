using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// LLamaSharp.Backend.Cpu 0.30.0 ships libllama.so and libmtmd.so byte for byte the same in each of its four CPU-variant
/// folders (only libggml-cpu.so differs). Published with SnapLoader, each of those is stored once in the archive and
/// held in one memory file, which answers at every one of its original paths, under the real runtime.
/// </summary>
[TestClass]
public sealed class IdenticalFilesPublishTests
{
    private static readonly string[] s_variants = ["avx", "avx2", "avx512", "noavx"];

    [TestMethod]
    public void LLamaSharpsIdenticalVariantLibrariesAreStoredOnceAndAnswerAtEveryPath()
    {
        var project = FunctionProject.Create("""
            <PackageReference Include="LLamaSharp" Version="0.30.0" />
            <PackageReference Include="LLamaSharp.Backend.Cpu" Version="0.30.0" />
            """, "<RuntimeIdentifier>linux-x64</RuntimeIdentifier>", """
            using System.Runtime.InteropServices;
            using System.Security.Cryptography;
            using System.Text.Json;
            using LLama.Native;

            namespace Fixture;

            public class Function
            {
                // The copies read at their original paths, then the library LLamaSharp's own loader picks, at work.
                public Stream Handler(Stream input)
                {
                    var root = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT")!;
                    var hashes = new Dictionary<string, string>();
                    foreach (var variant in new[] { "avx", "avx2", "avx512", "noavx" })
                    {
                        foreach (var name in new[] { "libllama.so", "libmtmd.so" })
                        {
                            var path = $"runtimes/linux-x64/native/{variant}/{name}";
                            hashes[path] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(root, path))));
                        }
                    }
                    return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new
                    {
                        hashes,
                        info = Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info()),
                    }));
                }
            }
            """);
        var eventFile = project.WriteEvent("{}");

        var published = project.Publish([]).EnsureSuccess("dotnet publish");
        var bootstrap = File.ReadAllText(Path.Combine(project.IntermediateFolder("linux-x64"), "SnapLoaderBootstrap.g.cs"));
        var plainFolder = project.PublishWithoutSnapLoader();

        // Which files move is the selection's business (at least libllama.so and libmtmd.so, over 1 MiB each); whatever
        // moved, each content has one entry and every other copy of it names that entry.
        var publish = project.PublishFolder("linux-x64");
        var moved = Directory.EnumerateFiles(plainFolder, "*.so", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(plainFolder, f))
            .Where(f => f.StartsWith("runtimes/linux-x64/native/", StringComparison.Ordinal) && !File.Exists(Path.Combine(publish, f)))
            .ToList();
        foreach (var variant in s_variants)
        {
            CollectionAssert.IsSubsetOf(new[] { $"runtimes/linux-x64/native/{variant}/libllama.so", $"runtimes/linux-x64/native/{variant}/libmtmd.so" }, moved);
        }
        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var entries = ZipListing.Read(archive).Entries.Select(e => e.Name).ToList();
        var contents = moved.GroupBy(f => Sha256(Path.Combine(plainFolder, f))).ToList();
        Assert.AreEqual(contents.Count, entries.Count, "one entry per content: " + string.Join(", ", entries));
        foreach (var content in contents)
        {
            Assert.AreEqual(1, content.Count(entries.Contains), $"one of {string.Join(", ", content)} holds their bytes");
        }
        Assert.AreEqual(1, entries.Count(e => e.EndsWith("/libllama.so", StringComparison.Ordinal)), string.Join(", ", entries));
        Assert.AreEqual(1, entries.Count(e => e.EndsWith("/libmtmd.so", StringComparison.Ordinal)), string.Join(", ", entries));
        var copies = moved.Count - entries.Count;
        StringAssert.Contains(published.Output, $"SnapLoader: {copies} moved file(s) are byte-identical to another and share its archive entry (");
        Assert.AreEqual(copies, bootstrap.Split(", entry: \"runtimes/linux-x64/native/").Length - 1, bootstrap);

        var split = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"));
        var plain = LambdaRun.Start(plainFolder, FunctionProject.Handler, eventFile);

        var hashes = JsonNode.Parse(split.Response)!["hashes"]!.AsObject();
        Assert.HasCount(8, hashes);
        foreach (var (path, hash) in hashes)
        {
            Assert.AreEqual(Sha256(Path.Combine(plainFolder, path)), hash!.GetValue<string>(), $"{path} reads its own bytes at its original path");
        }
        Assert.AreEqual(plain.Response, split.Response, "the same bytes and the same system info: the variant LLamaSharp picks answers");
        StringAssert.Contains(split.Output, $"write: {entries.Count} sealed memory files for {moved.Count} files (identical files share one)");
        Assert.IsFalse(split.MemfdDescriptors.Concat(split.MemfdMappings).Any(m => m.Contains("_avx_libllama.so", StringComparison.Ordinal) || m.Contains("_avx_libmtmd.so", StringComparison.Ordinal)),
            "a shared memory file names no one variant's folder: " + string.Join(", ", split.MemfdMappings));
        Assert.IsTrue(split.SnapStartHooksRan, split.Output);
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
