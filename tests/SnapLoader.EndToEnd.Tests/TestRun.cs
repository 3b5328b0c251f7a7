using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// What the whole test run shares: this repository's packages, packed once into a <see cref="LocalFeed"/> that the
/// test publishes restore from, in their own NuGet cache so that a package of the same version packed earlier never
/// leaks in.
/// </summary>
[TestClass]
public static class TestRun
{
    internal static LocalFeed Feed { get; private set; } = null!;

    [AssemblyInitialize]
    public static void Pack(TestContext context) => Feed = LocalFeed.Pack(TestPaths.NewTempFolder("e2e"));

    [AssemblyCleanup]
    public static void Clean()
    {
        if (Feed is not null && Environment.GetEnvironmentVariable("SNAPLOADER_KEEP_TEST_FILES") != "1")
        {
            try
            {
                Directory.Delete(Feed.Root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is not worth failing the run for.
            }
        }
    }
}
