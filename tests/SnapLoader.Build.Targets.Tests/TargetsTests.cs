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
    public void AClassLibraryWithoutLambdaCoreWarnsWithTheFix()
    {
        var project = TargetsProject.Create(lambdaCore: false);

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.AreEqual(new[] { "SNAP0008" }, log.WarningCodes.ToArray(), log.Text);
        var warning = log.Warning("SNAP0008");
        StringAssert.Contains(warning, "'Function' (Function.dll)", log.Text);
        StringAssert.Contains(warning, "dotnet add package Amazon.Lambda.Core");
        StringAssert.Contains(warning, "Function.deps.json");
        StringAssert.Contains(warning, "SnapStart");
    }

    [TestMethod]
    public void AClassLibraryWithLambdaCoreDoesNotWarn()
    {
        var project = TargetsProject.Create();

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.DoesNotContain(log.WarningCodes.ToArray(), "SNAP0008", log.Text);
    }

    [TestMethod]
    public void LambdaCoreThroughAnotherPackageIsEnough()
    {
        // The serializer depends on Amazon.Lambda.Core, which is then published and listed as any other package.
        var project = TargetsProject.Create(lambdaCore: false,
            items: """<PackageReference Include="Amazon.Lambda.Serialization.SystemTextJson" Version="3.0.0" />""");

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.DoesNotContain(log.WarningCodes.ToArray(), "SNAP0008", log.Text);
    }

    [TestMethod]
    public void AnExecutableWithoutLambdaCoreDoesNotWarn()
    {
        // A custom runtime: the function is its own program, with its own Main.
        var project = TargetsProject.Create("<OutputType>Exe</OutputType>", lambdaCore: false,
            code: "namespace Fixture; public static class Program { public static void Main() { } }");

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.DoesNotContain(log.WarningCodes.ToArray(), "SNAP0008", log.Text);
    }

    [TestMethod]
    public void ALibraryWithoutLambdaCoreWarnsAlsoWhenNothingMoved()
    {
        var project = TargetsProject.Create("<SnapLoaderThreshold>1000000000</SnapLoaderThreshold>", lambdaCore: false);

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsTrue(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.EndsWith("libonnxruntime.so")), "nothing moved");
        CollectionAssert.AreEquivalent(new[] { "SNAP0003", "SNAP0008" }, log.WarningCodes.ToArray(), log.Text);
    }

    [TestMethod]
    public void NoWarnSilencesTheLambdaCoreWarning()
    {
        var project = TargetsProject.Create("<NoWarn>$(NoWarn);SNAP0008</NoWarn>", lambdaCore: false);

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.AreEqual(0, log.WarningCodes.Count, log.Text);
    }

    [TestMethod]
    public void NeitherABuildNorADisabledPublishChecksLambdaCore()
    {
        var disabled = TargetsProject.Create("<SnapLoaderEnabled>false</SnapLoaderEnabled>", lambdaCore: false);
        var (published, _, publishLog) = disabled.Build(["Publish"], TargetsProject.Publishing());
        Assert.IsTrue(published, publishLog.ToString());
        CollectionAssert.DoesNotContain(publishLog.WarningCodes.ToArray(), "SNAP0008", publishLog.Text);

        var enabled = TargetsProject.Create(lambdaCore: false);
        var (built, _, buildLog) = enabled.Build(["Build"]);
        Assert.IsTrue(built, buildLog.ToString());
        CollectionAssert.DoesNotContain(buildLog.WarningCodes.ToArray(), "SNAP0008", buildLog.Text);
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
