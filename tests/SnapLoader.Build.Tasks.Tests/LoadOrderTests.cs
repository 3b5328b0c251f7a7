using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>LoadOrder on made-up facts, with file names chosen so that alphabetical order alone would be wrong.</summary>
[TestClass]
public sealed class LoadOrderTests
{
    private static ElfFacts Library(string fileName, string? soname = null, params string[] needed) =>
        new(fileName, ElfMachines.X86_64, true, soname, needed, [], []);

    private static LoadOrderResult<ElfFacts> Sort(params ElfFacts[] libraries) =>
        LoadOrder.Sort(libraries, library => library.Path, library => library);

    private static string Order(LoadOrderResult<ElfFacts> result) => string.Join(" ", result.Ordered.Select(library => library.Path));

    private static string Cycles(LoadOrderResult<ElfFacts> result) => string.Join(" / ", result.Cycles.Select(cycle => string.Join(" ", cycle)));

    [TestMethod]
    public void NeededLibrariesComeFirst()
    {
        var result = Sort(Library("liba.so", null, "libb.so"), Library("libb.so", null, "libc.so"), Library("libc.so"));

        Assert.AreEqual("libc.so libb.so liba.so", Order(result));
        Assert.IsEmpty(result.Cycles);
    }

    [TestMethod]
    public void TiesGoByOrdinalFileName()
    {
        var result = Sort(Library("libb.so"), Library("LibZ.so"), Library("liba.so"), Library("lib_.so"));

        // Ordinal: upper case before lower case, '_' before letters; a culture-aware sort would put LibZ.so last.
        Assert.AreEqual("LibZ.so lib_.so liba.so libb.so", Order(result));
    }

    [TestMethod]
    public void TheOrderDoesNotDependOnTheInputOrder()
    {
        ElfFacts[] libraries =
        [
            Library("libz.so", "libz.so.1"),
            Library("liby.so", null, "libz.so.1", "libc.so.6"),
            Library("libx.so", null, "liby.so"),
            Library("liba.so", null, "libz.so.1"),
            Library("libm.so"),
        ];
        var expected = "libm.so libz.so liba.so liby.so libx.so";
        foreach (var permutation in Permutations(libraries))
        {
            Assert.AreEqual(expected, Order(Sort(permutation)));
        }
    }

    [TestMethod]
    public void NeededMatchesASonameThatDiffersFromTheFileName()
    {
        var result = Sort(Library("a.so", null, "libz.so.1"), Library("z.so", "libz.so.1"));

        Assert.AreEqual("z.so a.so", Order(result));
    }

    [TestMethod]
    public void NeededMatchesAFileNameThatDiffersFromTheSoname()
    {
        // libtorch_cpu.so needs "libgomp-98b21ff3.so.1", the file name; that file's SONAME is libgomp.so.1.
        var result = Sort(
            Library("aa.so", "aa.so", "libgomp-98b21ff3.so.1"),
            Library("libgomp-98b21ff3.so.1", "libgomp.so.1"),
            Library("ab.so", "ab.so", "libgomp.so.1"));

        Assert.AreEqual("libgomp-98b21ff3.so.1 aa.so ab.so", Order(result));
    }

    [TestMethod]
    public void NeedsOutsideTheSetAreIgnored()
    {
        var result = Sort(Library("libb.so", null, "libc.so.6", "libstdc++.so.6"), Library("liba.so", null, "libm.so.6"));

        Assert.AreEqual("liba.so libb.so", Order(result));
        Assert.IsEmpty(result.Cycles);
    }

    [TestMethod]
    public void ALibraryNeedingItselfIsNoCycle()
    {
        var result = Sort(Library("libb.so", "libb.so.1", "libb.so.1", "liba.so"), Library("liba.so"));

        Assert.AreEqual("liba.so libb.so", Order(result));
        Assert.IsEmpty(result.Cycles);
    }

    [TestMethod]
    public void TwoLibrariesNeedingEachOtherAreReportedAndKeptTogether()
    {
        var result = Sort(
            Library("lib0.so", null, "liba.so"),
            Library("libb.so", null, "liba.so"),
            Library("liba.so", null, "libb.so"),
            Library("libq.so"));

        Assert.AreEqual("liba.so libb.so lib0.so libq.so", Order(result));
        Assert.AreEqual("liba.so libb.so", Cycles(result));
    }

    [TestMethod]
    public void AThreeLibraryCycleIsBrokenAtOneNeed()
    {
        // a needs b, b needs c, c needs a: a goes first (first by name), then c (its need, a, is loaded), then b.
        var result = Sort(Library("liba.so", null, "libb.so"), Library("libb.so", null, "libc.so"), Library("libc.so", null, "liba.so"));

        Assert.AreEqual("liba.so libc.so libb.so", Order(result));
        Assert.AreEqual("liba.so libc.so libb.so", Cycles(result));
    }

    [TestMethod]
    public void CyclesAreReportedTheSameWayWhateverTheInputOrder()
    {
        ElfFacts[] libraries =
        [
            Library("libd.so", null, "libe.so"),
            Library("libe.so", null, "libd.so"),
            Library("liba.so", null, "libb.so"),
            Library("libb.so", null, "liba.so"),
            Library("libc.so", null, "libd.so", "liba.so"),
        ];
        foreach (var permutation in Permutations(libraries))
        {
            var result = Sort(permutation);
            Assert.AreEqual("liba.so libb.so libd.so libe.so libc.so", Order(result));
            Assert.AreEqual("liba.so libb.so / libd.so libe.so", Cycles(result));
        }
    }

    [TestMethod]
    public void EveryLibraryAppearsOnceEvenWhenTwoShareASoname()
    {
        var result = Sort(Library("libz-1.so", "libz.so.1"), Library("liba.so", null, "libz.so.1"), Library("libz-2.so", "libz.so.1"));

        Assert.AreEqual("libz-1.so libz-2.so liba.so", Order(result));
    }

    [TestMethod]
    public void FactsAreAskedForOncePerLibrary()
    {
        var calls = 0;
        string[] names = ["liba.so", "libb.so", "libc.so"];

        var result = LoadOrder.Sort(names, name => name, name =>
        {
            calls++;
            return Library(name, null, "liba.so", "libb.so", "libc.so");
        });

        Assert.AreEqual(3, calls);
        Assert.HasCount(3, result.Ordered);
    }

    [TestMethod]
    public void AnEmptySetGivesAnEmptyOrder()
    {
        var result = Sort();

        Assert.IsEmpty(result.Ordered);
        Assert.IsEmpty(result.Cycles);
    }

    private static IEnumerable<ElfFacts[]> Permutations(ElfFacts[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (var first = 0; first < items.Length; first++)
        {
            var rest = items.Where((_, index) => index != first).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[first], .. tail];
            }
        }
    }
}
