using SnapLoader.Build.Tasks.Elf;
using static SnapLoader.Build.Tasks.Tests.ElfTestTools;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// <see cref="LibraryNeeds"/>: each DT_NEEDED name of a moved library resolved to the moved library the loader would
/// find in the original layout, on libraries gcc builds here, and the folders it searches on made-up facts.
/// </summary>
[TestClass]
public sealed class LibraryNeedsTests
{
    private const string Native = "runtimes/linux-x64/native";

    private static Dictionary<string, string> Resolve(GccPublishFolder publish, params string[] relativePaths)
    {
        var libraries = publish.Read(relativePaths);
        var needs = LibraryNeeds.Resolve(libraries);
        return libraries.Select((l, i) => (l.RelativePath, Needs: string.Join(" ", needs[i])))
            .ToDictionary(l => l.RelativePath, l => l.Needs, StringComparer.Ordinal);
    }

    private static ElfFacts Facts(string? soname = null, string[]? runpath = null, string[]? rpath = null, params string[] needed) =>
        new("unused", ElfMachines.X86_64, true, soname, needed, runpath ?? [], rpath ?? []);

    [TestMethod]
    public void EachVariantNeedsTheLibrariesOfItsOwnFolderOnly()
    {
        // LLamaSharp.Backend.Cpu's layout: the same names and SONAMEs in four sibling folders. avx has no RUNPATH,
        // avx2 has $ORIGIN; a copy at the root must not win over the own folder either.
        var publish = new GccPublishFolder("needs-variants");
        string[] variants = ["avx", "avx2", "avx512", "noavx"];
        var paths = new List<string>();
        foreach (var variant in variants)
        {
            var runpath = variant == "avx" ? null : "$ORIGIN";
            var folder = $"{Native}/{variant}";
            publish.Library($"{folder}/libggml-base.so", "libggml-base.so", runpath: runpath);
            publish.Library($"{folder}/libggml-cpu.so", "libggml-cpu.so", ["libggml-base.so"], runpath);
            publish.Library($"{folder}/libggml.so", "libggml.so", ["libggml-cpu.so", "libggml-base.so"], runpath);
            publish.Library($"{folder}/libllama.so", "libllama.so", ["libggml.so", "libggml-base.so", "libc.so.6"], runpath);
            paths.AddRange(new[] { "libggml-base.so", "libggml-cpu.so", "libggml.so", "libllama.so" }.Select(n => $"{folder}/{n}"));
        }
        publish.Library("libggml.so", "libggml.so");
        paths.Add("libggml.so");

        var needs = Resolve(publish, [.. paths]);

        foreach (var variant in variants)
        {
            var folder = $"{Native}/{variant}";
            Assert.AreEqual($"{folder}/libggml.so {folder}/libggml-base.so", needs[$"{folder}/libllama.so"], $"{variant}/libllama.so, in DT_NEEDED order");
            Assert.AreEqual($"{folder}/libggml-cpu.so {folder}/libggml-base.so", needs[$"{folder}/libggml.so"], variant);
            Assert.AreEqual($"{folder}/libggml-base.so", needs[$"{folder}/libggml-cpu.so"], variant);
            Assert.AreEqual("", needs[$"{folder}/libggml-base.so"], variant);
        }
    }

    [TestMethod]
    public void OriginRunpathFindsALibraryInAnotherFolderBeforeTheRoot()
    {
        var publish = new GccPublishFolder("needs-origin");
        publish.Library("app/bin/libapp.so", "libapp.so", ["libdep.so", "libother.so.2"], "$ORIGIN/../lib");
        publish.Library("app/braces/libbraces.so", "libbraces.so", ["libdep.so"], "${ORIGIN}/../lib");
        publish.Library("app/lib/libdep.so", "libdep.so");
        publish.Library("app/lib/libother.so.2", "libother.so.2");
        publish.Library("libdep.so", "libdep.so");

        var needs = Resolve(publish, "app/bin/libapp.so", "app/braces/libbraces.so", "app/lib/libdep.so", "app/lib/libother.so.2", "libdep.so");

        Assert.AreEqual("app/lib/libdep.so app/lib/libother.so.2", needs["app/bin/libapp.so"]);
        Assert.AreEqual("app/lib/libdep.so", needs["app/braces/libbraces.so"], "${ORIGIN} is $ORIGIN");
    }

    [TestMethod]
    public void RpathCountsWhenThereIsNoRunpath()
    {
        var publish = new GccPublishFolder("needs-rpath");
        publish.Library("plugins/libplugin.so", "libplugin.so", ["libcore.so"], "$ORIGIN/../core", asRpath: true);
        publish.Library("core/libcore.so", "libcore.so");

        var needs = Resolve(publish, "plugins/libplugin.so", "core/libcore.so");

        Assert.AreEqual("core/libcore.so", needs["plugins/libplugin.so"]);
    }

    [TestMethod]
    public void TheRootAndLibAreTheFallbackAndNoOtherFolderIs()
    {
        var publish = new GccPublishFolder("needs-root");
        publish.Library($"{Native}/libx.so", "libx.so", ["libroot.so", "liblibdir.so", "libboth.so", "libsibling.so", "libabsent.so"]);
        publish.Library("libroot.so", "libroot.so");
        publish.Library("lib/liblibdir.so", "liblibdir.so");
        publish.Library("libboth.so", "libboth.so");
        publish.Library("lib/libboth.so", "libboth.so");
        publish.Library($"{Native}/other/libsibling.so", "libsibling.so");
        publish.Library($"{Native}/other/liblibdir.so", "liblibdir.so");

        var needs = Resolve(publish, $"{Native}/libx.so", "libroot.so", "lib/liblibdir.so", "libboth.so", "lib/libboth.so",
            $"{Native}/other/libsibling.so", $"{Native}/other/liblibdir.so");

        // /var/task comes before /var/task/lib on LD_LIBRARY_PATH; a subfolder that no path names is never searched.
        Assert.AreEqual("libroot.so lib/liblibdir.so libboth.so", needs[$"{Native}/libx.so"]);
    }

    [TestMethod]
    public void AbsoluteRunpathInsideTheTaskRootCountsOutsideItDoesNot()
    {
        var publish = new GccPublishFolder("needs-absolute");
        publish.Library("bin/libtool.so", "libtool.so", ["libvendor.so", "libopt.so"], "/opt/lib:/var/task/vendor");
        publish.Library("vendor/libvendor.so", "libvendor.so");
        publish.Library("opt/lib/libopt.so", "libopt.so");

        var needs = Resolve(publish, "bin/libtool.so", "vendor/libvendor.so", "opt/lib/libopt.so");

        Assert.AreEqual("vendor/libvendor.so", needs["bin/libtool.so"], "/opt/lib is not in the deployment, whatever folder of it is named opt/lib");
    }

    [TestMethod]
    public void ANameMatchesAFileNameAndOtherwiseASoname()
    {
        // libtorch_cpu.so's DT_NEEDED libgomp-98b21ff3.so.1 is the file's name; its SONAME is libgomp.so.1.
        var publish = new GccPublishFolder("needs-soname");
        publish.Library("libtorch_cpu.so", "libtorch_cpu.so", ["libgomp-98b21ff3.so.1", "libz.so.1", "libq.so.1"]);
        publish.Library("libgomp-98b21ff3.so.1", "libgomp.so.1");
        publish.Library("libz-4a1b.so", "libz.so.1");
        // The own folder's libq.so has the SONAME, but a file named libq.so.1 on the way wins, as the loader opens that name.
        publish.Library("libq.so", "libq.so.1");
        publish.Library("lib/libq.so.1", "libq.so.1");

        var needs = Resolve(publish, "libtorch_cpu.so", "libgomp-98b21ff3.so.1", "libz-4a1b.so", "libq.so", "lib/libq.so.1");

        Assert.AreEqual("libgomp-98b21ff3.so.1 libz-4a1b.so lib/libq.so.1", needs["libtorch_cpu.so"]);
    }

    [TestMethod]
    public void ALibraryNeverNeedsItselfAndEachNeedComesOnce()
    {
        var needs = LibraryNeeds.Resolve(
        [
            ("a/liba.so", Facts("liba.so", null, null, "liba.so", "libb.so", "libb.so")),
            ("a/libb.so", Facts("libb.so")),
        ]);

        Assert.AreEqual("a/libb.so", string.Join(" ", needs[0]));
        Assert.AreEqual("", string.Join(" ", needs[1]));
    }

    [TestMethod]
    public void TheFoldersSearchedAndHowRunpathEntriesAreNormalised()
    {
        var facts = Facts(runpath: ["$ORIGIN/../lib", "${ORIGIN}", "$ORIGIN/../../../../../..", "/var/task/./x//y/", "/opt/lib", "$LIB/z", "rel", ""],
            rpath: ["/var/task/never"]);

        var folders = LibraryNeeds.SearchFolders("runtimes/linux-x64/native/avx2/libllama.so", facts);

        // The own folder; RUNPATH (RPATH ignored as there is RUNPATH), $ORIGIN up past the root leaving the task root
        // out; a relative entry against the working directory, /var/task; then the root and lib/ of LD_LIBRARY_PATH.
        AssertSequence(["runtimes/linux-x64/native/avx2", "runtimes/linux-x64/native/lib", "x/y", "rel", "", "lib"], folders, "folders");
        AssertSequence(["", "lib"], LibraryNeeds.SearchFolders("libroot.so", Facts()), "a root library: the root once");
        AssertSequence(["", "up", "lib"], LibraryNeeds.SearchFolders("libroot.so", Facts(rpath: ["$ORIGIN/up", "$ORIGIN/.."])), "RPATH; $ORIGIN/.. of the root leaves it");
    }
}
