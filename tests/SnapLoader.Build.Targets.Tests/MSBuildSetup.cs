using Microsoft.Build.Locator;

namespace SnapLoader.Build.Targets.Tests;

[TestClass]
public static class MSBuildSetup
{
    // Must run before any Microsoft.Build type is loaded, so it lives apart from the code that uses them.
    [AssemblyInitialize]
    public static void RegisterMSBuild(TestContext context)
    {
        if (!MSBuildLocator.IsRegistered)
        {
            MSBuildLocator.RegisterDefaults();
        }
    }
}
