using SnapLoader.Tests;

namespace SnapLoader.Native.Tests;

/// <summary>The C tests of native/tests (shim_tests and its case files), one row per CTest test, run against the x64 shim.</summary>
[TestClass]
public sealed class CTestTests
{
    // Keep in step with k_tests in shim_tests.c and SL_TESTS in CMakeLists.txt (EveryCTestHasARow checks).
    private static readonly string[] s_cases =
    [
        "preload_detected", "register_rules", "alias_rules", "unregister", "unregister_without_descriptors", "unregister_racing",
        "reregister_racing", "unregister_in_use", "descriptor", "freeze",
        "open_family", "fortify_open_family", "open_rules", "fopen_family",
        "stat_new_abi", "stat_old_abi", "statx", "access_family", "realpath_family", "readlink",
        "normalisation", "relative_cwd", "relative_dirfd", "long_cwd", "null_paths", "no_basename_fallback", "passthrough",
        "concurrency", "no_allocation", "child_process", "dlopen_registered", "dlopen_runpath_tailcall",
        "dlopen_needed_first", "dlopen_variants", "dlopen_failure_leaves_nothing", "directory", "not_preloaded",
    ];

    [TestMethod]
    [DataRow("preload_detected")]
    [DataRow("register_rules")]
    [DataRow("alias_rules")]
    [DataRow("unregister")]
    [DataRow("unregister_without_descriptors")]
    [DataRow("unregister_racing")]
    [DataRow("reregister_racing")]
    [DataRow("unregister_in_use")]
    [DataRow("descriptor")]
    [DataRow("freeze")]
    [DataRow("open_family")]
    [DataRow("fortify_open_family")]
    [DataRow("open_rules")]
    [DataRow("fopen_family")]
    [DataRow("stat_new_abi")]
    [DataRow("stat_old_abi")]
    [DataRow("statx")]
    [DataRow("access_family")]
    [DataRow("realpath_family")]
    [DataRow("readlink")]
    [DataRow("normalisation")]
    [DataRow("relative_cwd")]
    [DataRow("relative_dirfd")]
    [DataRow("long_cwd")]
    [DataRow("null_paths")]
    [DataRow("no_basename_fallback")]
    [DataRow("passthrough")]
    [DataRow("concurrency")]
    [DataRow("no_allocation")]
    [DataRow("child_process")]
    [DataRow("dlopen_registered")]
    [DataRow("dlopen_runpath_tailcall")]
    [DataRow("dlopen_needed_first")]
    [DataRow("dlopen_variants")]
    [DataRow("dlopen_failure_leaves_nothing")]
    [DataRow("directory")]
    [DataRow("not_preloaded")]
    public void CTestPasses(string name)
    {
        var result = NativeBuild.X64.CTest(name);
        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "100% tests passed, 0 tests failed out of 1", result.Output);
    }

    [TestMethod]
    public void EveryCTestHasARow()
    {
        var listed = NativeBuild.Run(NativeBuild.X64.TestProgram, ["--list"]).EnsureSuccess("shim_tests --list")
            .Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        CollectionAssert.AreEquivalent(s_cases, listed, "shim_tests --list");

        var ctest = NativeBuild.Run("ctest", ["--test-dir", NativeBuild.X64.Folder, "-N"]).EnsureSuccess("ctest -N").Output;
        foreach (var name in s_cases)
        {
            StringAssert.Matches(ctest, new System.Text.RegularExpressions.Regex($@"Test\s+#\d+: {name}\s*$",
                System.Text.RegularExpressions.RegexOptions.Multiline), $"CTest has no test {name}");
        }
        StringAssert.Contains(ctest, $"Total Tests: {s_cases.Length}", ctest);
    }

    /// <summary>The RUNPATH test catches a dlopen wrapper that calls and returns instead of tail-calling.</summary>
    [TestMethod]
    public void RunpathTestFailsWithoutTheTailCall()
    {
        var result = NativeBuild.BrokenTailCall.CTest("dlopen_runpath_tailcall");
        Assert.AreNotEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "libdep.so: cannot open shared object file", result.Output);
        // and everything else still passes with that build: only the tail call differs
        Assert.AreEqual(0, NativeBuild.BrokenTailCall.CTest("dlopen_registered").ExitCode);
        // the disassembly check of ElfAbiTests.DlopenWrapperEndsInATailCall sees the difference too
        var text = NativeBuild.Run("objdump", ["-d", "--no-show-raw-insn", "--disassemble=dlopen", NativeBuild.BrokenTailCall.Shim])
            .EnsureSuccess("objdump -d").Output;
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"^\s*[0-9a-f]+:\s+ret",
            System.Text.RegularExpressions.RegexOptions.Multiline), text);
    }
}
