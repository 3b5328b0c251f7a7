using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>samples/OnnxEmbedding, published with and without SnapLoader and run under the real runtime with SnapStart: same answer.</summary>
[TestClass]
public sealed class OnnxEmbeddingSampleTests
{
    private const string Handler = "OnnxEmbedding::OnnxEmbedding.Function::Handler";

    [TestMethod]
    public void TheSampleAnswersAsItWouldWithoutSnapLoader()
    {
        var project = FunctionProject.FromSample("OnnxEmbedding");
        var eventFile = project.WriteEvent("""{"seed": 7}""");

        project.Publish([]).EnsureSuccess("dotnet publish");
        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")));
        Assert.IsFalse(File.Exists(Path.Combine(publish, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx")));
        Assert.IsTrue(LambdaRun.DeploymentSize(publish) < LambdaRun.DeploymentLimit);
        var split = LambdaRun.Start(publish, Handler, eventFile, project.ArchiveFolder("linux-x64"));

        var plainFolder = project.PublishWithoutSnapLoader();
        Assert.IsTrue(File.Exists(Path.Combine(plainFolder, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx")));
        var plain = LambdaRun.Start(plainFolder, Handler, eventFile);

        var withSnapLoader = JsonNode.Parse(split.Response)!;
        var without = JsonNode.Parse(plain.Response)!;
        Assert.AreEqual(512, withSnapLoader["length"]!.GetValue<int>());
        Assert.AreEqual(without["norm"]!.GetValue<double>(), withSnapLoader["norm"]!.GetValue<double>());
        Assert.AreEqual(without["head"]!.ToJsonString(), withSnapLoader["head"]!.ToJsonString());
        CollectionAssert.Contains(split.MemfdMappings.ToList(), "libonnxruntime.so", "the library is mapped from its memory file");
        Assert.IsTrue(split.MemfdDescriptors.Any(name => name.EndsWith("ResNet18.onnx", StringComparison.Ordinal)),
            "the model, read through its original path, is a memory file: " + string.Join(", ", split.MemfdDescriptors));
        Assert.IsTrue(split.SnapStartHooksRan, split.Output);
        foreach (var response in split.Responses)
        {
            Assert.IsFalse(JsonNode.Parse(response)!["createdDuringInvoke"]!.GetValue<bool>(),
                "the session is created at init, so it is in the snapshot and no invocation after a restore creates it: " + response);
        }
        Assert.AreEqual(split.Response.Split("\"sessionMs\"")[0], split.Responses[1].Split("\"sessionMs\"")[0],
            "the same embedding after the SnapStart cycle");
        Assert.IsFalse(plain.MemfdMappings.Contains("libonnxruntime.so"));
    }

    [TestMethod]
    public void TheSamplePublishesForArm64WithAArch64LibrariesOnly()
    {
        var project = FunctionProject.FromSample("OnnxEmbedding");

        project.Publish(["-r", "linux-arm64"]).EnsureSuccess("dotnet publish -r linux-arm64");

        var publish = project.PublishFolder("linux-arm64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")));
        var archive = Directory.GetFiles(project.ArchiveFolder("linux-arm64"), "*.zip").Single();
        var entries = ZipListing.Read(archive).Entries;
        var library = entries.Single(e => e.Name == "libonnxruntime.so");
        Assert.AreEqual(Sha256Hex.OfFile(TestPaths.OnnxRuntimeLibrary("linux-arm64")), ZipListing.Sha256OfEntry(archive, library),
            "the archive holds the AArch64 build of ONNX Runtime");
        CollectionAssert.Contains(entries.Select(e => e.Name).ToList(), "DnnImageModels/ResNet18Onnx/ResNet18.onnx");
        Assert.IsFalse(entries.Any(e => e.Name.Contains("x64", StringComparison.Ordinal)), "nothing of another RID moves");
        Assert.AreEqual(183, File.ReadAllBytes(Path.Combine(publish, "libsnaploader_preload.so"))[18], "the AArch64 shim (e_machine 183)");
    }
}
