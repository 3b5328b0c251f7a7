using System.Runtime.InteropServices;
using SnapLoader.Build.Tasks.Elf;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// Helpers of the ELF and load order tests: small libraries built with gcc, readelf's view of a file, and a guard
/// against hangs.
/// </summary>
internal static class ElfTestTools
{
    private static readonly Lazy<string> s_chainFolder = new(BuildChain);
    private static readonly Lazy<string> s_cycleFolder = new(BuildCycle);

    /// <summary>
    /// A folder of libraries built by gcc: libsnapa.so NEEDED libsnapb.so and libnosoname.so (RPATH $ORIGIN:/opt/snap/lib
    /// through --disable-new-dtags), libsnapb.so NEEDED libsnapc.so.1 (RUNPATH $ORIGIN through --enable-new-dtags),
    /// libsnapc.so with SONAME libsnapc.so.1, and libnosoname.so without a SONAME.
    /// </summary>
    public static string ChainFolder
    {
        get
        {
            RequireGcc();
            return s_chainFolder.Value;
        }
    }

    /// <summary>
    /// A folder where libcyclea.so and libcycleb.so need each other (built through a stub of libcycleb.so) and
    /// libapp.so needs libcyclea.so.
    /// </summary>
    public static string CycleFolder
    {
        get
        {
            RequireGcc();
            return s_cycleFolder.Value;
        }
    }

    /// <summary>The e_machine of the libraries gcc builds here by default.</summary>
    public static ushort HostMachine => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => ElfMachines.X86_64,
        Architecture.Arm64 => ElfMachines.AArch64,
        var other => throw new AssertInconclusiveException($"No e_machine known for a {other} host."),
    };

    /// <summary>Ends the test as inconclusive when gcc is not installed.</summary>
    public static void RequireGcc()
    {
        if (TestPaths.FindOnPath("gcc") is null)
        {
            Assert.Inconclusive("gcc is not installed: the tests that build their own libraries cannot run.");
        }
    }

    /// <summary>
    /// Compiles <paramref name="source"/> into <paramref name="folder"/>/<paramref name="fileName"/> as a shared library.
    /// Without the C library (-nostdlib) and with --no-as-needed, so that DT_NEEDED lists exactly the libraries given in
    /// <paramref name="arguments"/>, whatever the distribution's defaults. Returns gcc's error output on failure, else null.
    /// </summary>
    public static string? TryBuildLibrary(string folder, string fileName, string source, params string[] arguments)
    {
        var sourceFile = fileName + ".c";
        File.WriteAllText(Path.Combine(folder, sourceFile), source);
        var result = ProcessRunner.Run("gcc", ["-shared", "-fPIC", "-nostdlib", "-Wl,--no-as-needed", "-o", fileName, sourceFile, .. arguments], folder);
        return result.ExitCode == 0 ? null : $"gcc {string.Join(' ', arguments)} for {fileName} failed ({result.ExitCode}): {result.StandardError}";
    }

    /// <summary><see cref="TryBuildLibrary"/>, failing the test when gcc fails.</summary>
    public static string BuildLibrary(string folder, string fileName, string source, params string[] arguments)
    {
        if (TryBuildLibrary(folder, fileName, source, arguments) is { } error)
        {
            Assert.Fail(error);
        }
        return Path.Combine(folder, fileName);
    }

    /// <summary>
    /// SONAME, NEEDED, RUNPATH and RPATH as <c>readelf -dW</c> prints them, as an <see cref="ElfFacts"/> (machine
    /// and class from <c>readelf -hW</c>'s class line only), or an inconclusive test when readelf is missing.
    /// </summary>
    public static ElfFacts Readelf(string path)
    {
        if (TestPaths.FindOnPath("readelf") is null)
        {
            Assert.Inconclusive("readelf (binutils) is not installed: nothing to compare with.");
        }
        var dynamic = ProcessRunner.Run("readelf", ["-dW", path], Path.GetTempPath());
        var header = ProcessRunner.Run("readelf", ["-hW", path], Path.GetTempPath());
        Assert.AreEqual(0, dynamic.ExitCode, dynamic.StandardError);
        string? soname = null;
        List<string> needed = [], runpath = [], rpath = [];
        foreach (var line in dynamic.StandardOutput.Split('\n'))
        {
            var open = line.IndexOf('[');
            var close = line.LastIndexOf(']');
            if (open < 0 || close < open)
            {
                continue;
            }
            var value = line[(open + 1)..close];
            if (line.Contains("(NEEDED)", StringComparison.Ordinal))
            {
                needed.Add(value);
            }
            else if (line.Contains("(SONAME)", StringComparison.Ordinal))
            {
                soname = value;
            }
            else if (line.Contains("(RUNPATH)", StringComparison.Ordinal))
            {
                runpath.AddRange(value.Split(':', StringSplitOptions.RemoveEmptyEntries));
            }
            else if (line.Contains("(RPATH)", StringComparison.Ordinal))
            {
                rpath.AddRange(value.Split(':', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        var is64Bit = header.StandardOutput.Split('\n').Any(line => line.TrimStart().StartsWith("Class:", StringComparison.Ordinal) && line.Contains("ELF64", StringComparison.Ordinal));
        return new ElfFacts(path, 0, is64Bit, soname, needed, runpath, rpath);
    }

    /// <summary>Runs <see cref="ElfFile.Read"/> and returns what it threw, or null; fails the test if it does not end within 10 s.</summary>
    public static Exception? ReadWithin10Seconds(string path)
    {
        var read = Task.Run(() => ElfFile.Read(path));
        var first = Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))).GetAwaiter().GetResult();
        Assert.AreSame(read, first, $"ElfFile.Read did not return within 10 s on {path}.");
        return read.Exception?.InnerException;
    }

    /// <summary>Both sequences, one per line, so a failure shows them whole.</summary>
    public static void AssertSequence(IEnumerable<string> expected, IEnumerable<string> actual, string what) =>
        Assert.AreEqual(string.Join(" | ", expected), string.Join(" | ", actual), what);

    private static string BuildChain()
    {
        var folder = TestPaths.NewTempFolder("elf-chain");
        BuildLibrary(folder, "libsnapc.so", "int snap_c(void) { return 3; }\n", "-Wl,-soname,libsnapc.so.1");
        BuildLibrary(folder, "libnosoname.so", "int snap_plain(void) { return 4; }\n");
        BuildLibrary(folder, "libsnapb.so", "int snap_c(void);\nint snap_b(void) { return snap_c() + 2; }\n",
            "libsnapc.so", "-Wl,-soname,libsnapb.so", "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags");
        BuildLibrary(folder, "libsnapa.so", "int snap_b(void);\nint snap_plain(void);\nint snap_a(void) { return snap_b() + snap_plain(); }\n",
            "libsnapb.so", "libnosoname.so", "-Wl,-soname,libsnapa.so", "-Wl,-rpath,$ORIGIN:/opt/snap/lib", "-Wl,--disable-new-dtags");
        return folder;
    }

    private static string BuildCycle()
    {
        var folder = TestPaths.NewTempFolder("elf-cycle");
        var stubs = Path.Combine(folder, "stub");
        Directory.CreateDirectory(stubs);
        // libcyclea.so must link against a libcycleb.so that does not exist yet: a stub with the same SONAME stands in.
        BuildLibrary(stubs, "libcycleb.so", "int cycle_b(void) { return 0; }\n", "-Wl,-soname,libcycleb.so");
        BuildLibrary(folder, "libcyclea.so", "int cycle_b(void);\nint cycle_a(void) { return cycle_b(); }\n",
            "stub/libcycleb.so", "-Wl,-soname,libcyclea.so");
        BuildLibrary(folder, "libcycleb.so", "int cycle_a(void);\nint cycle_b(void) { return 1; }\nint cycle_b2(void) { return cycle_a(); }\n",
            "libcyclea.so", "-Wl,-soname,libcycleb.so");
        BuildLibrary(folder, "libapp.so", "int cycle_a(void);\nint app(void) { return cycle_a(); }\n",
            "libcyclea.so", "-Wl,-soname,libapp.so");
        Directory.Delete(stubs, recursive: true);
        return folder;
    }
}
