using System.Text.Json.Nodes;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>samples/OnnxEmbedding, published with and without SnapLoader and run the Lambda way: same answer.</summary>
[TestClass]
public sealed class OnnxEmbeddingSampleTests
{
    private const string Handler = "OnnxEmbedding::OnnxEmbedding.Function::Handler";

    [TestMethod]
    public void TheSampleAnswersAsItWouldWithoutSnapLoader()
    {
        var project = FunctionProject.FromSample("OnnxEmbedding");
        var eventFile = Path.Combine(project.Directory, "event.json");
        File.WriteAllText(eventFile, """{"seed": 7}""");

        project.Publish([]).EnsureSuccess("dotnet publish");
        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "libonnxruntime.so")));
        Assert.IsFalse(File.Exists(Path.Combine(publish, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx")));
        var split = Run(publish, eventFile, project.ArchiveFolder("linux-x64"));

        var plainFolder = Path.Combine(project.Directory, "plain");
        project.Publish(["-p:SnapLoaderEnabled=false", "-o", plainFolder]).EnsureSuccess("dotnet publish without SnapLoader");
        Assert.IsTrue(File.Exists(Path.Combine(plainFolder, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx")));
        var plain = Run(plainFolder, eventFile, archives: null);

        var withSnapLoader = JsonNode.Parse(split["response"]!.GetValue<string>())!;
        var without = JsonNode.Parse(plain["response"]!.GetValue<string>())!;
        Assert.AreEqual(512, withSnapLoader["length"]!.GetValue<int>());
        Assert.AreEqual(without["norm"]!.GetValue<double>(), withSnapLoader["norm"]!.GetValue<double>());
        Assert.AreEqual(without["head"]!.ToJsonString(), withSnapLoader["head"]!.ToJsonString());
        CollectionAssert.Contains(split["memfdMappings"]!.AsArray().Select(m => m!.GetValue<string>()).ToList(), "libonnxruntime.so");
        Assert.AreEqual(split["response"]!.GetValue<string>().Split("\"sessionMs\"")[0], split["responseAfterRestore"]!.GetValue<string>().Split("\"sessionMs\"")[0],
            "the same embedding after the SnapStart cycle");
    }

    private static JsonNode Run(string publish, string eventFile, string? archives)
    {
        List<string> arguments = [Path.Combine(TestPaths.RepositoryRoot, "tools", "lambda-run.sh"), publish, Handler, eventFile];
        if (archives is not null)
        {
            arguments.Add(archives);
        }
        var run = ProcessRunner.Run("bash", arguments, Path.GetDirectoryName(eventFile)!);
        Assert.AreEqual(0, run.ExitCode, run.Output);
        return JsonNode.Parse(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
    }
}
