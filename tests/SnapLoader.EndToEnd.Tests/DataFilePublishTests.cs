using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>Moves model files that a package adds as content (ResNet18.onnx, 46 MB) with SnapLoaderInclude.</summary>
[TestClass]
public sealed class DataFilePublishTests
{
    [TestMethod]
    public void AnEscapedGlobMovesPackageContentThatIsNotInTheProjectFolder()
    {
        // MSBuild drops a wildcard item that matches no file of the project folder; %2A keeps the * for SnapLoader.
        var project = FunctionProject.Create(
            """
            <PackageReference Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="0.23.1" />
            <SnapLoaderInclude Include="DnnImageModels/%2A%2A/%2A.onnx" />
            """,
            "<RuntimeIdentifier>linux-x64</RuntimeIdentifier>");

        project.Publish(["--self-contained", "false"]).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.Exists(Path.Combine(publish, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx")));
        var archive = Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single();
        var entries = ZipListing.Read(archive).Entries;
        // Besides the two models, the package's dependency Microsoft.ML brings large native assets that move by default.
        CollectionAssert.IsSubsetOf(
            new[] { "DnnImageModels/ResNet18Onnx/ResNet18.onnx", "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx" },
            entries.Select(e => e.Name).ToArray());
        var model = entries.Single(e => e.Name.EndsWith("ResNet18.onnx"));
        Assert.AreEqual(Sha256Hex.OfFile(TestPaths.ResNet18Model), ZipListing.Sha256OfEntry(archive, model));
    }
}
