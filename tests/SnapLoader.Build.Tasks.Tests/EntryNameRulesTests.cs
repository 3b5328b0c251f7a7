namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// <see cref="EntryNameRules"/>, the one source of the name rules that the build packs by and the runtime reads by
/// (src/Shared, compiled into both). The writer's and the reader's use of them are tested where they are:
/// <c>ArchiveEntryNameTests</c>, and <c>ZipDirectoryTests</c> and <c>ByHandTests</c> in the runtime's tests.
/// </summary>
[TestClass]
public sealed class EntryNameRulesTests
{
    [TestMethod]
    [DataRow("", "is empty")]
    [DataRow("lib\\a.so", "contains a backslash")]
    [DataRow("/lib/a.so", "is absolute (it starts with '/')")]
    [DataRow("C:/lib/a.so", "is absolute (it starts with a drive letter)")]
    [DataRow("c:a.so", "is absolute (it starts with a drive letter)")]
    [DataRow("lib/a\u0001.so", "contains a control character (U+0001)")]
    [DataRow("lib/a\0.so", "contains a control character (U+0000)")]
    [DataRow("lib/a\n.so", "contains a control character (U+000A)")]
    [DataRow("lib/a\u007F.so", "contains a control character (U+007F)")]
    [DataRow("lib//a.so", "has an empty segment")]
    [DataRow("lib/", "has an empty segment")]
    [DataRow("./a.so", "has a '.' segment")]
    [DataRow("lib/./a.so", "has a '.' segment")]
    [DataRow("../a.so", "has a '..' segment")]
    [DataRow("lib/../../a.so", "has a '..' segment")]
    [DataRow("lib/..", "has a '..' segment")]
    public void ABrokenRuleIsNamed(string name, string problem)
    {
        var said = EntryNameRules.Problem(name);

        Assert.IsNotNull(said, name);
        StringAssert.StartsWith(said, problem);
    }

    [TestMethod]
    public void NoNameIsAProblemToo() => Assert.AreEqual("is empty", EntryNameRules.Problem(null));

    [TestMethod]
    [DataRow("a.so")]
    [DataRow("lib/a.so")]
    [DataRow("lib/x64/libonnxruntime.so.1.31.1")]
    [DataRow(".hidden/a..b")]
    [DataRow("lib/...")]
    [DataRow("données/é")]
    [DataRow(" leading and trailing ")]
    [DataRow("50%25;$(x)@(y)*?'.bin")]
    [DataRow("lib/a:b.so")]
    [DataRow("caf\u0082.txt")]
    public void AWellFormedNameHasNoProblem(string name) => Assert.IsNull(EntryNameRules.Problem(name));
}
