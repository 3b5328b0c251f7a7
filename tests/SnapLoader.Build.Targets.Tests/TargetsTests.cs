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
