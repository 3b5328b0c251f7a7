using SnapLoader.Tests;

namespace SnapLoader.Native.Tests;

/// <summary>One CMake build of native/ for a runtime identifier, made once per test run.</summary>
internal sealed class NativeBuild
{
    private static readonly Lazy<NativeBuild> s_x64 = new(() => Configure("linux-x64", []));
    private static readonly Lazy<NativeBuild> s_arm64 = new(() => Configure("linux-arm64",
        [$"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(NativeSourceFolder, "cmake", "aarch64-linux-gnu.cmake")}"],
        requiredTool: ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")));
    private static readonly Lazy<NativeBuild> s_brokenTailCall = new(() => Configure("linux-x64-broken-tailcall",
        ["-DSNAPLOADER_BREAK_TAILCALL_FOR_TESTS=ON"]));

    private static readonly Dictionary<string, Lazy<string>> s_shipped = new()
    {
        ["linux-x64"] = new(() => BuildShipped("linux-x64")),
        ["linux-arm64"] = new(() => BuildShipped("linux-arm64")),
    };

    private NativeBuild(string folder) => Folder = folder;

    /// <summary>
    /// The .so exactly as the package build makes it: <c>native/build.sh &lt;rid&gt; &lt;outdir&gt;</c> (no tests built).
    /// </summary>
    public static string Shipped(string rid) => s_shipped[rid].Value;

    private static string BuildShipped(string rid)
    {
        if (rid == "linux-arm64" && TestPaths.FindOnPath("aarch64-linux-gnu-gcc") is null)
        {
            throw new InvalidOperationException("aarch64-linux-gnu-gcc is not installed (Debian: apt-get install gcc-aarch64-linux-gnu).");
        }
        var root = Path.Combine(AppContext.BaseDirectory, "native-shipped", rid);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        var output = Path.Combine(root, "out");
        Run("bash", [Path.Combine(NativeSourceFolder, "build.sh"), rid, output],
                new Dictionary<string, string?> { ["SNAPLOADER_NATIVE_BUILD_DIR"] = Path.Combine(root, "build") })
            .EnsureSuccess($"native/build.sh {rid}");
        var shim = Path.Combine(output, "libsnaploader_preload.so");
        if (!File.Exists(shim))
        {
            throw new InvalidOperationException($"native/build.sh {rid} made no {shim}");
        }
        return shim;
    }

    public static string NativeSourceFolder => Path.Combine(TestPaths.RepositoryRoot, "native");

    public static NativeBuild X64 => s_x64.Value;

    public static NativeBuild Arm64 => s_arm64.Value;

    /// <summary>A build whose dlopen wrapper calls and returns instead of tail-calling.</summary>
    public static NativeBuild BrokenTailCall => s_brokenTailCall.Value;

    public string Folder { get; }

    public string Shim => Path.Combine(Folder, "libsnaploader_preload.so");

    public string TestProgram => Path.Combine(Folder, "shim_tests");

    /// <summary>Runs one CTest test by exact name; fails if it did not run or did not pass.</summary>
    public ProcessResult CTest(string name) =>
        Run("ctest", ["--test-dir", Folder, "-R", $"^{name}$", "--no-tests=error", "--output-on-failure"]);

    public static ProcessResult Run(string tool, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        ProcessRunner.Run(tool, arguments, TestPaths.RepositoryRoot, environment, TimeSpan.FromMinutes(5));

    private static NativeBuild Configure(string name, string[] extraArguments, (string Program, string AptPackage)? requiredTool = null)
    {
        if (TestPaths.FindOnPath("cmake") is null)
        {
            throw new InvalidOperationException("cmake is not installed (Debian: apt-get install cmake).");
        }
        if (requiredTool is { } tool && TestPaths.FindOnPath(tool.Program) is null)
        {
            throw new InvalidOperationException($"{tool.Program} is not installed (Debian: apt-get install {tool.AptPackage}).");
        }
        // Under the test output folder: a fresh build of the checked-in sources for every test run.
        var folder = Path.Combine(AppContext.BaseDirectory, "native-build", name);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Run("cmake", ["-S", NativeSourceFolder, "-B", folder, "-DCMAKE_BUILD_TYPE=Release", .. extraArguments])
            .EnsureSuccess($"cmake configure ({name})");
        Run("cmake", ["--build", folder, "--parallel"]).EnsureSuccess($"cmake build ({name})");
        return new NativeBuild(folder);
    }
}
