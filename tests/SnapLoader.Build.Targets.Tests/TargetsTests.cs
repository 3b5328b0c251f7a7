using SnapLoader.Tests;

namespace SnapLoader.Build.Targets.Tests;

[TestClass]
public sealed class TargetsTests
{
    [TestMethod]
    public void PublishCompilesTheBootstrapAndTakesTheLibraryOutOfThePublishSet()
    {
        var project = TargetsProject.Create();

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsFalse(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.EndsWith("libonnxruntime.so")));
        Assert.IsTrue(instance.GetItems("Compile").Any(i => i.EvaluatedInclude.EndsWith("SnapLoaderBootstrap.g.cs")));
        Assert.IsTrue(instance.GetItems("FileWrites").Any(i => i.EvaluatedInclude.EndsWith("SnapLoaderBootstrap.g.cs")));
        Assert.IsTrue(File.Exists(Path.Combine(project.Obj, "SnapLoaderBootstrap.g.cs")));
        Assert.IsTrue(File.Exists(Path.Combine(project.Publish, "Function.dll")));
        Assert.IsFalse(File.Exists(Path.Combine(project.Publish, "libonnxruntime.so")));
        Assert.IsTrue(File.Exists(Path.Combine(project.Publish, "snaploader-exec-wrapper")));
    }

    [TestMethod]
    public void ASecondPublishLeavesTheBootstrapUntouchedButStillCompilesIt()
    {
        var project = TargetsProject.Create();
        Assert.IsTrue(project.Build(["Publish"], TargetsProject.Publishing()).Success);
        var bootstrap = Path.Combine(project.Obj, "SnapLoaderBootstrap.g.cs");
        var written = File.GetLastWriteTimeUtc(bootstrap);

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.AreEqual(written, File.GetLastWriteTimeUtc(bootstrap));
        Assert.IsTrue(instance.GetItems("Compile").Any(i => i.EvaluatedInclude.EndsWith("SnapLoaderBootstrap.g.cs")));
        StringAssert.Contains(log.Text, "is up to date");
    }

    [TestMethod]
    public void ABuildBetweenTwoPublishesDropsAndRestoresTheBootstrap()
    {
        var project = TargetsProject.Create();
        var assembly = Path.Combine(project.Obj, "Function.dll");
        Assert.IsTrue(project.Build(["Publish"], TargetsProject.Publishing()).Success);
        Assert.IsTrue(HasBootstrap(assembly));

        var (built, _, buildLog) = project.Build(["Build"]);
        Assert.IsTrue(built, buildLog.ToString());
        Assert.IsFalse(HasBootstrap(assembly), "a plain build compiles the function as without SnapLoader");

        var (published, _, publishLog) = project.Build(["Publish"], TargetsProject.Publishing());
        Assert.IsTrue(published, publishLog.ToString());
        Assert.IsTrue(HasBootstrap(assembly), "the next publish must compile the bootstrap in again, although its source did not change");
        Assert.IsTrue(HasBootstrap(Path.Combine(project.Publish, "Function.dll")));
    }

    private static bool HasBootstrap(string assemblyPath)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assemblyPath));
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        return metadata.TypeDefinitions.Select(metadata.GetTypeDefinition)
            .Any(t => metadata.GetString(t.Name) == "SnapLoaderBootstrap" && metadata.GetString(t.Namespace) == "SnapLoader.Generated");
    }

    [TestMethod]
    public void APlainBuildDoesNothing()
    {
        var project = TargetsProject.Create();

        var (success, _, log) = project.Build(["Build"]);

        Assert.IsTrue(success, log.ToString());
        Assert.IsFalse(Directory.Exists(Path.Combine(project.Obj, "snaploader")));
        Assert.IsFalse(File.Exists(Path.Combine(project.Obj, "SnapLoaderBootstrap.g.cs")));
    }

    [TestMethod]
    public void ADesignTimeBuildSkipsTheExpensiveSteps()
    {
        var project = TargetsProject.Create();
        var properties = TargetsProject.Publishing();
        properties["DesignTimeBuild"] = "true";
        properties["SkipCompilerExecution"] = "true";
        properties["ProvideCommandLineArgs"] = "true";

        var (success, _, log) = project.Build(["Compile"], properties);

        Assert.IsTrue(success, log.ToString());
        Assert.IsFalse(Directory.Exists(Path.Combine(project.Obj, "snaploader")), "nothing is packed in a design-time build");
    }

    [TestMethod]
    public void APublishThatDidNotCompileTheBootstrapFails()
    {
        var project = TargetsProject.Create();

        // msbuild -t:Publish, unlike dotnet publish, does not set _IsPublishing.
        var (success, _, log) = project.Build(["Publish"]);

        Assert.IsFalse(success);
        CollectionAssert.AreEqual(new[] { "SNAP0005" }, log.ErrorCodes.ToArray(), log.Text);
    }

    [TestMethod]
    public void DisabledLeavesThePublishSetAlone()
    {
        var project = TargetsProject.Create("<SnapLoaderEnabled>false</SnapLoaderEnabled>");

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsTrue(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.EndsWith("libonnxruntime.so")));
        Assert.IsFalse(instance.GetItems("Compile").Any(i => i.EvaluatedInclude.EndsWith("SnapLoaderBootstrap.g.cs")));
    }
}
