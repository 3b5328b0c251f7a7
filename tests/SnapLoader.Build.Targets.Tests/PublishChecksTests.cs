using SnapLoader.Tests;

namespace SnapLoader.Build.Targets.Tests;

/// <summary>
/// The checks of the publish set that the targets wire up: system libraries a library needs (SNAP0022,
/// SnapLoaderProvidedLibraries) and native files for other platforms (the report, SnapLoaderRemoveForeignBinaries).
/// </summary>
[TestClass]
public sealed class PublishChecksTests
{
    // Microsoft.ML.OnnxRuntime's Windows library, as its build props copy it into every publish.
    private static string WindowsDllItem =>
        $"""<None Include="{Path.Combine(TestPaths.Package("Microsoft.ML.OnnxRuntime", "1.31.1"), "runtimes", "win-x64", "native", "onnxruntime.dll")}" Link="onnxruntime.dll" CopyToPublishDirectory="PreserveNewest" />""";

    [TestMethod]
    public void AWindowsDllStaysByDefaultAndTheReportListsIt()
    {
        var project = TargetsProject.Create(items: WindowsDllItem);

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsTrue(File.Exists(Path.Combine(project.Publish, "onnxruntime.dll")));
        StringAssert.Contains(log.Text, "native files for other platforms than linux-x64, still in the deployment: 1 files, 17.3 MB");
        StringAssert.Contains(log.Text, "17.3 MB  onnxruntime.dll (Windows PE, x86-64)");
        Assert.IsTrue(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.EndsWith("onnxruntime.dll")));
    }

    [TestMethod]
    public void RemoveForeignBinariesLeavesItOutOfThePublish()
    {
        var project = TargetsProject.Create("<SnapLoaderRemoveForeignBinaries>true</SnapLoaderRemoveForeignBinaries>", items: WindowsDllItem);

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsFalse(File.Exists(Path.Combine(project.Publish, "onnxruntime.dll")));
        Assert.IsFalse(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.EndsWith("onnxruntime.dll")));
        StringAssert.Contains(log.Text, "left out of the deployment (SnapLoaderRemoveForeignBinaries): 1 files, 17.3 MB:");
        Assert.IsTrue(File.Exists(Path.Combine(project.Publish, "Function.dll")), "the rest is published");
    }

    [TestMethod]
    public void WithNothingMovedTheForeignFilesAreStillReported()
    {
        var project = TargetsProject.Create("<SnapLoaderThreshold>1000000000</SnapLoaderThreshold>", items: WindowsDllItem);

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.AreEqual(new[] { "SNAP0003" }, log.WarningCodes.ToArray(), log.Text);
        StringAssert.Contains(log.Text, "SnapLoader: native files for other platforms than linux-x64, still in the deployment: 1 files");
        Assert.IsFalse(log.Text.Contains("SnapLoader moved", StringComparison.Ordinal), log.Text);
    }

    [TestMethod]
    public void ALibraryThatNeedsWhatLambdaLacksWarnsUnlessALayerProvidesIt()
    {
        var project = TargetsProject.Create(items: """<None Include="libvision.so" CopyToPublishDirectory="PreserveNewest" />""");
        BuildLibraryNeeding(project.Directory, "libvision.so", "libgtk-3.so.0", "libstdc++.so.6");

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        CollectionAssert.AreEqual(new[] { "SNAP0022" }, log.WarningCodes.ToArray(), log.Text);
        StringAssert.Contains(log.Warning("SNAP0022"), "'libvision.so' needs 'libgtk-3.so.0'");
        Assert.IsTrue(File.Exists(Path.Combine(project.Publish, "libvision.so")), "a warning: the library stays where it was");

        var layered = TargetsProject.Create("<SnapLoaderProvidedLibraries>libpango-1.0.so.0;libgtk-3.so.0</SnapLoaderProvidedLibraries>",
            items: """<None Include="libvision.so" CopyToPublishDirectory="PreserveNewest" />""");
        BuildLibraryNeeding(layered.Directory, "libvision.so", "libgtk-3.so.0", "libstdc++.so.6");
        var (layeredSuccess, _, layeredLog) = layered.Build(["Publish"], TargetsProject.Publishing());
        Assert.IsTrue(layeredSuccess, layeredLog.ToString());
        Assert.AreEqual(0, layeredLog.WarningCodes.Count, layeredLog.Text);
    }

    [TestMethod]
    public void AMovedLibraryIsCheckedTooAndNoWarnSilencesIt()
    {
        var project = TargetsProject.Create("<SnapLoaderThreshold>1</SnapLoaderThreshold><NoWarn>$(NoWarn);SNAP0022</NoWarn>",
            items: """<None Include="libvision.so" CopyToPublishDirectory="PreserveNewest" />""");
        BuildLibraryNeeding(project.Directory, "libvision.so", "libgtk-3.so.0");

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        Assert.IsTrue(instance.GetItems("_SnapLoaderSelected").Any(i => i.EvaluatedInclude.EndsWith("libvision.so")), "it moved");
        Assert.AreEqual(0, log.WarningCodes.Count, log.Text);

        var warned = TargetsProject.Create("<SnapLoaderThreshold>1</SnapLoaderThreshold>",
            items: """<None Include="libvision.so" CopyToPublishDirectory="PreserveNewest" />""");
        BuildLibraryNeeding(warned.Directory, "libvision.so", "libgtk-3.so.0");
        var (_, _, warnedLog) = warned.Build(["Publish"], TargetsProject.Publishing());
        StringAssert.Contains(warnedLog.Warning("SNAP0022"), "'libvision.so' needs 'libgtk-3.so.0'");
    }

    [TestMethod]
    public void APlainBuildChecksNothing()
    {
        var project = TargetsProject.Create(items: WindowsDllItem + """<None Include="libvision.so" CopyToPublishDirectory="PreserveNewest" />""");
        BuildLibraryNeeding(project.Directory, "libvision.so", "libgtk-3.so.0");

        var (success, _, log) = project.Build(["Build"]);

        Assert.IsTrue(success, log.ToString());
        Assert.AreEqual(0, log.WarningCodes.Count, log.Text);
        Assert.IsFalse(log.Text.Contains("other platforms", StringComparison.Ordinal), log.Text);
    }

    /// <summary>
    /// A shared library whose DT_NEEDED entries are exactly <paramref name="needed"/>, built by gcc against stubs of
    /// those SONAMEs that are deleted afterwards.
    /// </summary>
    private static void BuildLibraryNeeding(string folder, string fileName, params string[] needed)
    {
        if (!File.Exists("/usr/bin/gcc"))
        {
            Assert.Inconclusive("gcc is not installed: the tests that build their own libraries cannot run.");
        }
        var stubs = Path.Combine(folder, "stubs");
        Directory.CreateDirectory(stubs);
        File.WriteAllText(Path.Combine(stubs, "stub.c"), "int stub(void) { return 0; }\n");
        foreach (var name in needed)
        {
            ProcessRunner.Run("gcc", ["-shared", "-fPIC", "-nostdlib", $"-Wl,-soname,{name}", "-o", name, "stub.c"], stubs).EnsureSuccess($"gcc {name}");
        }
        File.WriteAllText(Path.Combine(folder, fileName + ".c"), "int work(void) { return 1; }\n");
        ProcessRunner.Run("gcc", ["-shared", "-fPIC", "-nostdlib", "-Wl,--no-as-needed", "-o", fileName, fileName + ".c", .. needed.Select(n => Path.Combine("stubs", n))], folder)
            .EnsureSuccess($"gcc {fileName}");
        Directory.Delete(stubs, recursive: true);
    }
}
