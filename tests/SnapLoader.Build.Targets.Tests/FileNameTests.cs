using System.IO.Compression;
using System.Security.Cryptography;
using SnapLoader.Tests;

namespace SnapLoader.Build.Targets.Tests;

/// <summary>
/// Moved files whose names MSBuild would change: escapes it unescapes, characters it gives a meaning, and spaces at
/// the ends that it trims. Each must be packed, listed and taken out of the publish set under its exact name.
/// </summary>
[TestClass]
public sealed class FileNameTests
{
    /// <summary>The names, all at the project's root and published there.</summary>
    private static readonly string[] s_names = MSBuildFileNames.Changed;

    [TestMethod]
    public void MovedFilesKeepTheirExactNamesAndLeaveThePublishFolder()
    {
        // Stored, so that System.IO.Compression reads the entries back.
        var project = TargetsProject.Create("<SnapLoaderCompression>Stored</SnapLoaderCompression>", items: """
            <None Include="*.bin*" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="%2A.bin%2A" />
            """);
        foreach (var (name, index) in s_names.Select((n, i) => (n, i)))
        {
            File.WriteAllBytes(Path.Combine(project.Directory, name), RandomNumberGenerator.GetBytes(1000 + index));
        }

        var (success, instance, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsTrue(success, log.ToString());
        var archive = Directory.GetFiles(Path.Combine(project.Obj, "snaploader"), "*.zip").Single();
        using var zip = ZipFile.OpenRead(archive);
        var entries = zip.Entries.ToDictionary(e => e.FullName, StringComparer.Ordinal);
        foreach (var name in s_names)
        {
            Assert.IsTrue(entries.TryGetValue(name, out var entry), $"'{name}' in the archive: {string.Join(", ", entries.Keys.Select(k => $"'{k}'"))}");
            using var content = entry.Open();
            CollectionAssert.AreEqual(SHA256.HashData(File.ReadAllBytes(Path.Combine(project.Directory, name))), SHA256.HashData(content), name);
            Assert.IsFalse(File.Exists(Path.Combine(project.Publish, name)), $"'{name}' is deployed as well as moved");
        }
        var bootstrap = File.ReadAllText(Path.Combine(project.Obj, "SnapLoaderBootstrap.g.cs"));
        StringAssert.Contains(bootstrap, "\"%41%2A.bin\"");
        StringAssert.Contains(bootstrap, "\"trailing.bin \"");
        Assert.IsFalse(instance.GetItems("ResolvedFileToPublish").Any(i => i.EvaluatedInclude.Contains(".bin", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void TwoNamesThatDifferOnlyInCaseFailWithSnap0012ThatSaysWhy()
    {
        var project = TargetsProject.Create(items: """
            <None Include="*.bin" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="%2A.bin" />
            """);
        File.WriteAllBytes(Path.Combine(project.Directory, "Model.bin"), [1]);
        File.WriteAllBytes(Path.Combine(project.Directory, "model.bin"), [2]);

        var (success, _, log) = project.Build(["Publish"], TargetsProject.Publishing());

        Assert.IsFalse(success, log.ToString());
        CollectionAssert.Contains(log.ErrorCodes.ToList(), "SNAP0012", log.ToString());
        StringAssert.Contains(log.ToString(), "MSBuild compares item paths ignoring case", log.ToString());
    }
}
