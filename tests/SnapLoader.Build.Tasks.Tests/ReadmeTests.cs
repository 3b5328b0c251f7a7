using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// README.md documents every code: each build code (ErrorCodes) has its row in "Build errors and warnings", each runtime
/// code (RuntimeErrorCodes, in SnapLoader.Runtime) its row in "Runtime errors", and every row there names a real code.
/// </summary>
[TestClass]
public sealed partial class ReadmeTests
{
    private const string BuildSection = "Build errors and warnings";
    private const string RuntimeSection = "Runtime errors";

    [TestMethod]
    public void EveryBuildCodeHasItsRowAndEveryRowItsCode() =>
        AssertSameCodes(CodesOf(typeof(GenerateBootstrap).Assembly, "ErrorCodes"), BuildSection, ReadReadme());

    [TestMethod]
    public void EveryRuntimeCodeHasItsRowAndEveryRowItsCode() =>
        AssertSameCodes(CodesOf(Assembly.Load(new AssemblyName("SnapLoader.Runtime")), "RuntimeErrorCodes"), RuntimeSection, ReadReadme());

    [TestMethod]
    public void TheRowsOfASectionAreReadWithTheirRangesAndPairs()
    {
        var readme = """
            ## Errors

            ### Runtime errors

            | Code | When |
            |---|---|
            | SNAP1001 | One. |
            | SNAP1006 / SNAP1007 | A pair. |
            | SNAP1013-SNAP1015 | A range. |

            ```text
            ### Not a heading
            | SNAP1099 | In a code block: not a row. |
            ```

            | SNAP1002 | After the code block, still in the section. |

            | `SNAPLOADER_ARCHIVE` | Not a code. |

            ### Next
            | SNAP1098 | Another section. |
            """;

        CollectionAssert.AreEqual(
            new[] { "SNAP1001", "SNAP1006", "SNAP1007", "SNAP1013", "SNAP1014", "SNAP1015", "SNAP1002" },
            RowCodes(readme, RuntimeSection));
    }

    [TestMethod]
    public void AMissingAndAnExtraRowAreNamed()
    {
        var readme = """
            ### Runtime errors

            | Code | When |
            |---|---|
            | SNAP1001 | One. |
            | SNAP1003 | Not a code. |
            """;

        var failure = Assert.ThrowsExactly<AssertFailedException>(
            () => AssertSameCodes(new SortedSet<string>(StringComparer.Ordinal) { "SNAP1001", "SNAP1002" }, RuntimeSection, readme));

        StringAssert.Contains(failure.Message, "codes without a row: SNAP1002");
        StringAssert.Contains(failure.Message, "rows without a code: SNAP1003");
    }

    private static string ReadReadme() => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));

    /// <summary>The values of the const string fields of the type named <paramref name="typeName"/> in <paramref name="assembly"/>, wherever its namespace.</summary>
    private static SortedSet<string> CodesOf(Assembly assembly, string typeName)
    {
        var types = assembly.GetTypes().Where(t => t.Name == typeName).ToList();
        Assert.HasCount(1, types, $"{assembly.GetName().Name} must have exactly one type named {typeName}");
        var codes = new SortedSet<string>(
            types[0].GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(string))
                .Select(f => (string)f.GetRawConstantValue()!),
            StringComparer.Ordinal);
        Assert.IsNotEmpty(codes, $"{typeName} has no codes");
        foreach (var code in codes)
        {
            Assert.IsTrue(CodePattern().IsMatch(code), $"{typeName}: '{code}' is not a SNAPnnnn code");
        }
        return codes;
    }

    private static void AssertSameCodes(SortedSet<string> codes, string section, string readme)
    {
        var rows = RowCodes(readme, section);
        var documented = new SortedSet<string>(rows, StringComparer.Ordinal);
        var missing = codes.Except(documented).ToList();
        var extra = documented.Except(codes).ToList();
        var twice = rows.GroupBy(code => code).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (missing.Count > 0 || extra.Count > 0 || twice.Count > 0)
        {
            Assert.Fail($"README.md, section \"{section}\": codes without a row: {List(missing)}; rows without a code: {List(extra)}; "
                + $"codes in more than one row: {List(twice)}.");
        }
    }

    private static string List(List<string> codes) => codes.Count == 0 ? "none" : string.Join(", ", codes);

    /// <summary>
    /// The codes named by the first cell of the table rows under the heading <paramref name="section"/> (any level, up to
    /// the next heading; code blocks are skipped): <c>SNAP1006 / SNAP1007</c> names two, <c>SNAP1013-SNAP1018</c> six.
    /// </summary>
    private static List<string> RowCodes(string readme, string section)
    {
        var lines = readme.ReplaceLineEndings("\n").Split('\n');
        var inCode = false;
        var inSection = false;
        var found = false;
        var codes = new List<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }
            else if (inCode)
            {
                continue;
            }
            else if (HeadingPattern().Match(line) is { Success: true } heading)
            {
                inSection = heading.Groups[1].Value.Trim() == section;
                found |= inSection;
            }
            else if (inSection && line.StartsWith('|'))
            {
                var cell = line.Split('|')[1];
                foreach (Match range in RangePattern().Matches(cell))
                {
                    var first = int.Parse(range.Groups[1].Value, CultureInfo.InvariantCulture);
                    var last = range.Groups[2].Success ? int.Parse(range.Groups[2].Value, CultureInfo.InvariantCulture) : first;
                    Assert.IsTrue(first <= last, $"README.md, section \"{section}\": the range in '{line}' runs backwards");
                    for (var number = first; number <= last; number++)
                    {
                        codes.Add($"SNAP{number:D4}");
                    }
                }
            }
        }
        Assert.IsTrue(found, $"README.md has no heading \"{section}\"");
        return codes;
    }

    [GeneratedRegex(@"^#{1,6}\s+(.*)$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"\bSNAP(\d{4})(?:\s*-\s*SNAP(\d{4}))?\b")]
    private static partial Regex RangePattern();

    [GeneratedRegex(@"^SNAP\d{4}$")]
    private static partial Regex CodePattern();
}
