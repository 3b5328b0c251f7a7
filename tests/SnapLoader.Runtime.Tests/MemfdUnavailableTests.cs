using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// <see cref="SnapLoaderRuntime.Start"/> where memfd_create does not exist (ENOSYS: an old kernel, a sandbox that hides
/// the call) or is forbidden (EPERM: a seccomp policy). The probe runs under a real seccomp filter, installed by a small
/// C launcher (SeccompLauncher/deny_memfd.c) that the test builds with gcc; the .NET runtime itself copes without
/// memfd_create. SnapLoader has no fallback to disk: the init fails with SNAP1011 naming the file and the errno.
/// </summary>
[TestClass]
public sealed class MemfdUnavailableTests
{
    private static readonly Lazy<string> s_launcher = new(BuildLauncher);

    [TestMethod]
    [DataRow("ENOSYS", 38)]
    [DataRow("EPERM", 1)]
    public void WithoutMemfdCreateStartFailsNamingTheFileAndErrnoWithNothingLeft(string errnoName, int errno)
    {
        var (manifest, env, _) = StartProbe.PrepareOnnx();

        var result = StartProbe.Run(manifest, env, wrapper: [s_launcher.Value, errnoName], TimeSpan.FromMinutes(2));

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        var message = findings["errorMessage"]!.GetValue<string>();
        Assert.AreEqual(RuntimeErrorCodes.MemfdCreateFailed, findings["errorCode"]!.GetValue<string>(), message);
        StringAssert.Contains(message, "'libonnxruntime.so'", "the first file of the manifest");
        StringAssert.Contains(message, $"errno {errno}");
        StringAssert.Contains(message, "seccomp");
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>());
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers");
        Assert.IsFalse(Directory.Exists(env["SNAPLOADER_TARGET_DIR"]!), "no folder of links was made");
    }

    private static string BuildLauncher()
    {
        var source = Path.Combine(TestPaths.RepositoryRoot, "tests", "SnapLoader.Runtime.Tests", "SeccompLauncher", "deny_memfd.c");
        var output = Path.Combine(AppContext.BaseDirectory, "deny_memfd");
        ProcessRunner.Run("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", output, source], TestPaths.RepositoryRoot).EnsureSuccess("gcc deny_memfd.c");
        return output;
    }
}
