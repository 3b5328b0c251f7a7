using System.Security.Cryptography;
using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// Moved files whose names MSBuild would change (escapes it unescapes, characters it gives a meaning, spaces at the
/// ends that it trims), published for real and read back by their original paths under the real runtime.
/// </summary>
[TestClass]
public sealed class FileNamesRunTests
{
    private static readonly string[] s_names = MSBuildFileNames.Changed;

    [TestMethod]
    public void EachMovedFileIsReadByItsExactOriginalPath()
    {
        var names = string.Join(", ", s_names.Select(n => $"\"{n}\""));
        var project = FunctionProject.Create(
            """
            <Content Include="*.bin*" CopyToPublishDirectory="PreserveNewest" />
            <SnapLoaderInclude Include="%2A.bin%2A" />
            """,
            "<RuntimeIdentifier>linux-x64</RuntimeIdentifier>",
            $$"""
            using System.Security.Cryptography;

            namespace Fixture;

            public class Function
            {
                private static readonly string[] Names = [{{names}}];

                // The SHA-256 of each file read by its original path, or the exception that reading it threw.
                public Stream Handler(Stream input)
                {
                    var root = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT")!;
                    var hashes = Names.Select(name =>
                    {
                        try
                        {
                            return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(root, name))));
                        }
                        catch (Exception e)
                        {
                            return e.GetType().Name;
                        }
                    });
                    return new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("|", hashes)));
                }
            }
            """);
        var expected = s_names.Select((name, index) =>
        {
            var content = RandomNumberGenerator.GetBytes(4096 + index);
            File.WriteAllBytes(Path.Combine(project.Directory, name), content);
            return Convert.ToHexString(SHA256.HashData(content));
        }).ToArray();

        project.Publish(["--self-contained", "false"]).EnsureSuccess("dotnet publish");

        var publish = project.PublishFolder("linux-x64");
        foreach (var name in s_names)
        {
            Assert.IsFalse(File.Exists(Path.Combine(publish, name)), $"'{name}' is deployed as well as moved");
        }
        var entries = ZipListing.Read(Directory.GetFiles(project.ArchiveFolder("linux-x64"), "*.zip").Single()).Entries.Select(e => e.Name).ToList();
        CollectionAssert.IsSubsetOf(s_names, entries, string.Join(", ", entries.Select(e => $"'{e}'")));
        var eventFile = project.WriteEvent("{}");

        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, project.ArchiveFolder("linux-x64"));

        CollectionAssert.AreEqual(expected, run.Response.Split('|'), run.Output);
    }
}
