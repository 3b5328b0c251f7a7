using SnapLoader.Tests;

namespace SnapLoader.Native.Tests;

/// <summary>
/// The arm64 shim run under qemu-user (Debian package qemu-user): the C tests built for aarch64, with the shim
/// preloaded into the emulated process (child_process is left out: it would exec another guest binary).
/// </summary>
[TestClass]
public sealed class Arm64SmokeTests
{
    [TestMethod]
    public void CTestsPassUnderQemu()
    {
        if (TestPaths.FindOnPath("qemu-aarch64") is null)
        {
            Assert.Inconclusive("qemu-aarch64 is not installed (Debian: apt-get install qemu-user); the arm64 shim was built and inspected but not run.");
        }
        var result = NativeBuild.Run("ctest", ["--test-dir", NativeBuild.Arm64.Folder, "--no-tests=error", "--output-on-failure"]);
        Console.WriteLine(result.Output);
        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "100% tests passed, 0 tests failed out of 35", result.Output);
    }
}
