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
}
