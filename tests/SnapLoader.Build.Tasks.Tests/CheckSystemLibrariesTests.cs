using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// SNAP0022 on libraries built by gcc with the DT_NEEDED entries each test needs: a stub with the wanted SONAME is
/// linked and deleted, so the library names a library that exists nowhere.
/// </summary>
[TestClass]
public sealed class CheckSystemLibrariesTests
{
    private static readonly string s_hostRid = ElfTestTools.HostMachine == Elf.ElfMachines.X86_64 ? "linux-x64" : "linux-arm64";

    /// <summary>Builds <paramref name="fileName"/> in <paramref name="folder"/>, needing exactly <paramref name="needed"/>.</summary>
    private static string LibraryNeeding(string folder, string fileName, string? soname, params string[] needed)
    {
        var stubs = Path.Combine(folder, "stubs-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(stubs);
        var arguments = new List<string>();
        foreach (var name in needed)
        {
            ElfTestTools.BuildLibrary(stubs, name, "int stub(void) { return 0; }\n", $"-Wl,-soname,{name}");
            arguments.Add(Path.Combine(stubs, name));
        }
        if (soname is not null)
        {
            arguments.Add($"-Wl,-soname,{soname}");
        }
        var path = ElfTestTools.BuildLibrary(folder, fileName, "int work(void) { return 1; }\n", [.. arguments]);
        Directory.Delete(stubs, recursive: true);
        return path;
    }

    private static CheckSystemLibraries Task(RecordingBuildEngine engine, params ITaskItem[] files) =>
        new() { BuildEngine = engine, Files = files, RuntimeIdentifier = s_hostRid };

    private static ITaskItem Moved(string path, string relativePath)
    {
        var item = new TaskItem(path);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        return item;
    }

    [TestMethod]
    public void EachMissingLibraryIsOneWarningThatNamesItAndTheLibraryThatNeedsIt()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        var library = LibraryNeeding(folder, "libvision.so", null, "libc.so.6", "libgtk-3.so.0", "libstdc++.so.6", "libX11.so.6");
        var engine = new RecordingBuildEngine();
        var task = Task(engine, TestItems.PublishItem(library, "runtimes/" + s_hostRid + "/native/libvision.so"));

        Assert.IsTrue(task.Execute(), "a warning, not an error");

        CollectionAssert.AreEqual(new[] { "SNAP0022", "SNAP0022" }, engine.WarningCodes.ToArray(), engine.AllText);
        var gtk = engine.Warnings[0];
        StringAssert.Contains(gtk.Message, $"'runtimes/{s_hostRid}/native/libvision.so' needs 'libgtk-3.so.0'");
        StringAssert.Contains(gtk.Message, "SnapLoaderProvidedLibraries");
        Assert.AreEqual(library, gtk.File, "the warning points at the library that needs it");
        StringAssert.Contains(engine.Warnings[1].Message, "needs 'libX11.so.6'");
        CollectionAssert.AreEqual(new[] { "libgtk-3.so.0", "libX11.so.6" }, task.MissingLibraries.Select(m => m.ItemSpec).ToArray());
        Assert.AreEqual($"runtimes/{s_hostRid}/native/libvision.so", task.MissingLibraries[0].GetMetadata("SnapLoaderNeededBy"));
    }

    [TestMethod]
    public void TheDeploymentProvidesByFileNameOrBySonameWhetherTheProviderMovedOrStays()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        // libbyname.so is found by its file name, libversioned.so.1.2 by its SONAME libversioned.so.1.
        var byName = LibraryNeeding(folder, "libbyname.so", null);
        var bySoname = LibraryNeeding(folder, "libversioned.so.1.2", "libversioned.so.1");
        var user = LibraryNeeding(folder, "libuser.so", null, "libbyname.so", "libversioned.so.1");
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine,
            TestItems.PublishItem(user, "libuser.so"),
            Moved(byName, "libbyname.so"),
            TestItems.PublishItem(bySoname, "lib/libversioned.so.1.2")).Execute());

        Assert.AreEqual(0, engine.Warnings.Count, engine.AllText);
    }

    [TestMethod]
    public void AMovedLibraryIsCheckedToo()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        var library = LibraryNeeding(folder, "libbig.so", null, "libgomp.so.1");
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine, Moved(library, "native/libbig.so")).Execute());

        StringAssert.Contains(engine.Warnings.Single().Message, "'native/libbig.so' needs 'libgomp.so.1'");
    }

    [TestMethod]
    public void ProvidedLibrariesNameWhatALayerBrings()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        var library = LibraryNeeding(folder, "libvision.so", null, "libgtk-3.so.0", "libX11.so.6");
        var engine = new RecordingBuildEngine();
        var task = Task(engine, TestItems.PublishItem(library, "libvision.so"));
        // As MSBuild splits "libgtk-3.so.0; libX11.so.6" (the property, with a space).
        task.ProvidedLibraries = ["libgtk-3.so.0", " libX11.so.6"];

        Assert.IsTrue(task.Execute());

        Assert.AreEqual(0, engine.Warnings.Count, engine.AllText);
    }

    [TestMethod]
    public void TheOtherArchitecturesLoaderIsMissing()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        var other = ElfTestTools.HostMachine == Elf.ElfMachines.X86_64 ? "ld-linux-aarch64.so.1" : "ld-linux-x86-64.so.2";
        var own = ElfTestTools.HostMachine == Elf.ElfMachines.X86_64 ? "ld-linux-x86-64.so.2" : "ld-linux-aarch64.so.1";
        var library = LibraryNeeding(folder, "libconfused.so", null, own, other);
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine, TestItems.PublishItem(library, "libconfused.so")).Execute());

        StringAssert.Contains(engine.Warnings.Single().Message, $"needs '{other}'");
    }

    [TestMethod]
    public void FilesThatNeverLoadOnTheRidAreNotChecked()
    {
        ElfTestTools.RequireGcc();
        var folder = TestPaths.NewTempFolder("syslibs");
        var library = LibraryNeeding(folder, "libvision.so", null, "libgtk-3.so.0");
        var runtimePack = TestItems.PublishItem(library, "libcoreclrlike.so", "Microsoft.NETCore.App.Runtime." + s_hostRid, "10.0.0", "runtimes/" + s_hostRid + "/native/libcoreclrlike.so");
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine,
            TestItems.PublishItem(library, "runtimes/osx-arm64/native/libvision.so"),   // another RID's folder
            runtimePack,                                                                 // the .NET runtime of a self-contained publish
            TestItems.PublishItem(TestItems.WriteFile(folder, "libfake.so", 64), "libfake.so"),   // not ELF
            TestItems.PublishItem(Path.Combine(folder, "missing.so"), "missing.so")).Execute());   // not there (yet)

        Assert.AreEqual(0, engine.Warnings.Count, engine.AllText);
    }

    [TestMethod]
    public void ALibraryForAnotherMachineIsNotChecked()
    {
        // libonnxruntime.so for the other architecture: the report lists it as a foreign binary instead.
        var otherRid = s_hostRid == "linux-x64" ? "linux-arm64" : "linux-x64";
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine, TestItems.PublishItem(TestPaths.OnnxRuntimeLibrary(otherRid), "libonnxruntime.so")).Execute());

        Assert.AreEqual(0, engine.Warnings.Count, engine.AllText);
    }

    [TestMethod]
    public void OnnxRuntimeNeedsNothingLambdaLacks()
    {
        foreach (var rid in new[] { "linux-x64", "linux-arm64" })
        {
            var native = Path.GetDirectoryName(TestPaths.OnnxRuntimeLibrary(rid))!;
            var engine = new RecordingBuildEngine();
            var task = new CheckSystemLibraries
            {
                BuildEngine = engine,
                RuntimeIdentifier = rid,
                Files = [
                    TestItems.PublishItem(Path.Combine(native, "libonnxruntime.so"), "libonnxruntime.so"),
                    TestItems.PublishItem(Path.Combine(native, "libonnxruntime_providers_shared.so"), "libonnxruntime_providers_shared.so"),
                ],
            };

            Assert.IsTrue(task.Execute());

            Assert.AreEqual(0, engine.Warnings.Count, $"{rid}: {engine.AllText}");
        }
    }

    [TestMethod]
    public void AnUnreadableElfFileIsSkippedNotFailed()
    {
        // A truncated ELF header: SNAP0020 is AnalyzeNativeLibraries' to raise for a moved file; this check says nothing.
        var folder = TestPaths.NewTempFolder("syslibs");
        var truncated = Path.Combine(folder, "libtruncated.so");
        File.WriteAllBytes(truncated, [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0]);
        var engine = new RecordingBuildEngine();

        Assert.IsTrue(Task(engine, TestItems.PublishItem(truncated, "libtruncated.so")).Execute());

        Assert.AreEqual(0, engine.Warnings.Count + engine.Errors.Count, engine.AllText);
    }
}
