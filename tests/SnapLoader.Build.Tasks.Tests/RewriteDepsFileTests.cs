using System.Text.Json.Nodes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

// The fixtures are the deps.json files the SDK wrote for a net8.0 library referencing Microsoft.ML.OnnxRuntime 1.31.1,
// published with -r linux-x64 and without a RID.
[TestClass]
public sealed class RewriteDepsFileTests
{
    private const string Library = "Microsoft.ML.OnnxRuntime/1.31.1";

    private static string CopyFixture(string name)
    {
        var path = Path.Combine(TestPaths.NewTempFolder("deps"), "Function.deps.json");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", name), path);
        return path;
    }

    private static ITaskItem Moved(string relativePath, string pathInPackage)
    {
        var item = new TaskItem("/packages/" + pathInPackage);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("NuGetPackageId", "Microsoft.ML.OnnxRuntime");
        item.SetMetadata("NuGetPackageVersion", "1.31.1");
        item.SetMetadata("PathInPackage", pathInPackage);
        return item;
    }

    private static JsonObject Targets(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!["targets"]!;

    [TestMethod]
    public void RidPublishLosesOnlyTheMovedNativeEntry()
    {
        var deps = CopyFixture("onnxruntime-linux-x64.deps.json");
        var before = JsonNode.Parse(File.ReadAllText(deps))!;
        var task = new RewriteDepsFile
        {
            BuildEngine = new RecordingBuildEngine(),
            DepsFile = deps,
            MovedFiles = [Moved("libonnxruntime.so", "runtimes/linux-x64/native/libonnxruntime.so")],
        };

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(1, task.RemovedCount);
        var native = (JsonObject)Targets(deps)[".NETCoreApp,Version=v8.0/linux-x64"]![Library]!["native"]!;
        CollectionAssert.AreEqual(new[] { "runtimes/linux-x64/native/libonnxruntime_providers_shared.so" }, native.Select(p => p.Key).ToArray());

        // Everything else is as the SDK wrote it.
        var after = JsonNode.Parse(File.ReadAllText(deps))!;
        ((JsonObject)before["targets"]![".NETCoreApp,Version=v8.0/linux-x64"]![Library]!["native"]!).Remove("runtimes/linux-x64/native/libonnxruntime.so");
        Assert.IsTrue(JsonNode.DeepEquals(before, after));
    }

    [TestMethod]
    public void PortablePublishLosesOnlyTheTargetRidsRuntimeTarget()
    {
        var deps = CopyFixture("onnxruntime-portable.deps.json");
        var task = new RewriteDepsFile
        {
            BuildEngine = new RecordingBuildEngine(),
            DepsFile = deps,
            MovedFiles = [Moved("runtimes/linux-x64/native/libonnxruntime.so", "runtimes/linux-x64/native/libonnxruntime.so")],
        };

        Assert.IsTrue(task.Execute());

        var runtimeTargets = (JsonObject)Targets(deps)[".NETCoreApp,Version=v8.0"]![Library]!["runtimeTargets"]!;
        Assert.IsFalse(runtimeTargets.ContainsKey("runtimes/linux-x64/native/libonnxruntime.so"));
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/linux-arm64/native/libonnxruntime.so"));
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/linux-x64/native/libonnxruntime_providers_shared.so"));
    }

    [TestMethod]
    public void AnEmptyGroupIsRemovedAndNothingMovedLeavesTheFileUntouched()
    {
        var deps = CopyFixture("onnxruntime-linux-x64.deps.json");
        var original = File.ReadAllBytes(deps);
        var untouched = new RewriteDepsFile { BuildEngine = new RecordingBuildEngine(), DepsFile = deps, MovedFiles = [Moved("libother.so", "runtimes/linux-x64/native/libother.so")] };
        Assert.IsTrue(untouched.Execute());
        CollectionAssert.AreEqual(original, File.ReadAllBytes(deps));

        var both = new RewriteDepsFile
        {
            BuildEngine = new RecordingBuildEngine(),
            DepsFile = deps,
            MovedFiles =
            [
                Moved("libonnxruntime.so", "runtimes/linux-x64/native/libonnxruntime.so"),
                Moved("libonnxruntime_providers_shared.so", "runtimes/linux-x64/native/libonnxruntime_providers_shared.so"),
            ],
        };
        Assert.IsTrue(both.Execute());
        Assert.IsFalse(((JsonObject)Targets(deps)[".NETCoreApp,Version=v8.0/linux-x64"]![Library]!).ContainsKey("native"));
    }

    [TestMethod]
    public void AFileThatIsNotADepsFileIsAnError()
    {
        var path = Path.Combine(TestPaths.NewTempFolder("deps"), "broken.deps.json");
        File.WriteAllText(path, "{ \"runtimeTarget\": ");
        var engine = new RecordingBuildEngine();

        Assert.IsFalse(new RewriteDepsFile { BuildEngine = engine, DepsFile = path, MovedFiles = [Moved("a.so", "a.so")] }.Execute());

        Assert.AreEqual("SNAP0040", engine.Errors.Single().Code);
        StringAssert.Contains(engine.Errors.Single().Message, path);
    }

    private static ITaskItem Package(string id, string version, string pathInPackage, string relativePath)
    {
        var item = new TaskItem("/packages/" + id + "/" + pathInPackage);
        item.SetMetadata("RelativePath", relativePath);
        item.SetMetadata("NuGetPackageId", id);
        item.SetMetadata("NuGetPackageVersion", version);
        item.SetMetadata("PathInPackage", pathInPackage);
        return item;
    }

    // The shape of a function's deps.json with SnapLoader.Runtime, as the SDK writes it for a linux-x64 publish.
    private const string RuntimeDeps = """
        {
          "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0/linux-x64", "signature": "" },
          "compilationOptions": {},
          "targets": {
            ".NETCoreApp,Version=v10.0": {},
            ".NETCoreApp,Version=v10.0/linux-x64": {
              "Function/1.0.0": { "dependencies": { "Amazon.Lambda.Core": "3.2.0" }, "runtime": { "Function.dll": {} } },
              "Amazon.Lambda.Core/3.2.0": { "runtime": { "lib/net10.0/Amazon.Lambda.Core.dll": { "assemblyVersion": "1.0.0.0", "fileVersion": "1.0.0.0" } } },
              "AWSSDK.Core/4.1.0": { "runtime": { "lib/net10.0/AWSSDK.Core.dll": { "assemblyVersion": "4.0.0.0", "fileVersion": "4.1.0.0" } } },
              "SnapLoader.Runtime/0.1.0": {
                "dependencies": { "AWSSDK.Core": "4.1.0" },
                "runtime": { "lib/net8.0/SnapLoader.Runtime.dll": { "assemblyVersion": "0.1.0.0", "fileVersion": "0.1.0.0" } },
                "native": { "runtimes/linux-x64/native/libsnaploader_preload.so": { "fileVersion": "0.0.0.0" } }
              }
            }
          },
          "libraries": {}
        }
        """;

    [TestMethod]
    public void FilesLeftOutLoseTheirManagedAndNativeEntries()
    {
        // The host refuses to start when a managed assembly the deps.json lists is missing.
        var deps = Path.Combine(TestPaths.NewTempFolder("deps"), "Function.deps.json");
        File.WriteAllText(deps, RuntimeDeps);
        var task = new RewriteDepsFile
        {
            BuildEngine = new RecordingBuildEngine(),
            DepsFile = deps,
            RemovedFiles =
            [
                Package("SnapLoader.Runtime", "0.1.0", "lib/net8.0/SnapLoader.Runtime.dll", "SnapLoader.Runtime.dll"),
                Package("SnapLoader.Runtime", "0.1.0", "runtimes/linux-x64/native/libsnaploader_preload.so", "libsnaploader_preload.so"),
                Package("AWSSDK.Core", "4.1.0", "lib/net10.0/AWSSDK.Core.dll", "AWSSDK.Core.dll"),
            ],
        };

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(3, task.RemovedCount);
        var target = (JsonObject)Targets(deps)[".NETCoreApp,Version=v10.0/linux-x64"]!;
        var runtime = (JsonObject)target["SnapLoader.Runtime/0.1.0"]!;
        CollectionAssert.AreEqual(new[] { "dependencies" }, runtime.Select(p => p.Key).ToArray(), "no asset is left, the dependency graph is");
        Assert.IsFalse(((JsonObject)target["AWSSDK.Core/4.1.0"]!).ContainsKey("runtime"));
        Assert.IsTrue(((JsonObject)target["Amazon.Lambda.Core/3.2.0"]!).ContainsKey("runtime"), "what the function keeps is untouched");
    }

    [TestMethod]
    public void APortablePublishLosesTheForeignRuntimeTargetsLeftOut()
    {
        var deps = CopyFixture("onnxruntime-portable.deps.json");
        string[] foreign = ["runtimes/win-x64/native/onnxruntime.dll", "runtimes/osx-arm64/native/libonnxruntime.dylib", "runtimes/linux-arm64/native/libonnxruntime.so"];
        var task = new RewriteDepsFile
        {
            BuildEngine = new RecordingBuildEngine(),
            DepsFile = deps,
            MovedFiles = [Moved("runtimes/linux-x64/native/libonnxruntime.so", "runtimes/linux-x64/native/libonnxruntime.so")],
            RemovedFiles = foreign.Select(path => Package("Microsoft.ML.OnnxRuntime", "1.31.1", path, path)).ToArray(),
        };

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(4, task.RemovedCount);
        var runtimeTargets = (JsonObject)Targets(deps)[".NETCoreApp,Version=v8.0"]![Library]!["runtimeTargets"]!;
        foreach (var path in foreign.Append("runtimes/linux-x64/native/libonnxruntime.so"))
        {
            Assert.IsFalse(runtimeTargets.ContainsKey(path), path);
        }
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/win-arm64/native/onnxruntime.dll"), "only what was left out goes");
        Assert.IsTrue(runtimeTargets.ContainsKey("runtimes/linux-x64/native/libonnxruntime_providers_shared.so"));
    }

    [TestMethod]
    public void WithNothingMovedOrLeftOutTheFileIsNotEvenRead()
    {
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(new RewriteDepsFile { BuildEngine = engine, DepsFile = "/nonexistent/Function.deps.json" }.Execute());

        Assert.AreEqual(0, engine.Errors.Count);
    }
}
