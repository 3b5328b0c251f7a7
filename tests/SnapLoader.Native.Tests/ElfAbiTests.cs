using System.Text.RegularExpressions;
using SnapLoader.Tests;

namespace SnapLoader.Native.Tests;

/// <summary>
/// Reads every shipped libsnaploader_preload.so (linux-x64 and linux-arm64) with readelf and objdump: machine type,
/// maximum GLIBC symbol version (2.17: Amazon Linux 2 has 2.26, Amazon Linux 2023 2.34), the exported wrappers,
/// and no version definitions (a named version node would hide the interposed symbols).
/// </summary>
[TestClass]
public sealed class ElfAbiTests
{
    private static readonly Version s_maxGlibc = new(2, 17);

    /// <summary>Everything the shim must export, unversioned: the API and every interposed entry point.</summary>
    internal static readonly string[] ExpectedExports =
    [
        "snaploader_abi_version", "snaploader_register", "snaploader_register_alias", "snaploader_register_library",
        "snaploader_register_directory", "snaploader_descriptor", "snaploader_unregister", "snaploader_freeze",
        "open", "open64", "openat", "openat64", "__open_2", "__open64_2", "__openat_2", "__openat64_2",
        "fopen", "fopen64", "freopen", "freopen64",
        "__xstat", "__xstat64", "__lxstat", "__lxstat64", "__fxstatat", "__fxstatat64",
        "stat", "stat64", "lstat", "lstat64", "fstatat", "fstatat64", "statx",
        "access", "faccessat", "realpath", "__realpath_chk", "canonicalize_file_name", "readlink",
        "dlopen", "dlmopen", "dlerror", "opendir",
    ];

    /// <summary>Every shipped .so: the build.sh output, and the test build the C tests ran against.</summary>
    private static IEnumerable<string> ShimsFor(string rid) =>
        [NativeBuild.Shipped(rid), (rid == "linux-x64" ? NativeBuild.X64 : NativeBuild.Arm64).Shim];

    [TestMethod]
    [DataRow("linux-x64", "Advanced Micro Devices X86-64")]
    [DataRow("linux-arm64", "AArch64")]
    public void MachineMatchesTheRuntimeIdentifier(string rid, string machine)
    {
        foreach (var shim in ShimsFor(rid))
        {
            var header = NativeBuild.Run("readelf", ["-h", shim]).EnsureSuccess("readelf -h").Output;
            StringAssert.Matches(header, new Regex($@"Machine:\s+{Regex.Escape(machine)}\s*$", RegexOptions.Multiline), header);
            StringAssert.Matches(header, new Regex(@"Type:\s+DYN", RegexOptions.Multiline), header);
        }
    }

    [TestMethod]
    [DataRow("linux-x64")]
    [DataRow("linux-arm64")]
    public void NeedsNoGlibcVersionAbove2_17(string rid)
    {
        foreach (var shim in ShimsFor(rid))
        {
            CheckGlibcVersions(rid, shim);
        }
    }

    private static void CheckGlibcVersions(string rid, string shim)
    {
        var symbols = NativeBuild.Run("readelf", ["--dyn-syms", "-W", shim]).EnsureSuccess("readelf --dyn-syms").Output;
        var needs = NativeBuild.Run("readelf", ["-V", "-W", shim]).EnsureSuccess("readelf -V").Output;
        var versions = GlibcVersions(symbols).Concat(GlibcVersions(needs)).ToList();
        Assert.IsTrue(versions.Count > 0, $"no GLIBC version found in:\n{symbols}");
        var max = versions.Max()!;
        Assert.IsTrue(max <= s_maxGlibc, $"{rid}: needs GLIBC_{max}:\n{symbols}");

        // objdump reads the same table its own way (the cross objdump for arm64 when the host one cannot).
        var objdump = rid == "linux-x64" ? "objdump" : TestPaths.FindOnPath("aarch64-linux-gnu-objdump") ?? "objdump";
        var dynamic = NativeBuild.Run(objdump, ["-T", shim]).EnsureSuccess("objdump -T").Output;
        var objdumpMax = GlibcVersions(dynamic).Max()!;
        Assert.IsTrue(objdumpMax <= s_maxGlibc, $"{rid}: objdump says GLIBC_{objdumpMax}:\n{dynamic}");
        Console.WriteLine($"{rid}: {shim} needs at most GLIBC_{max}");
    }

    [TestMethod]
    [DataRow("linux-x64")]
    [DataRow("linux-arm64")]
    public void ExportsExactlyTheApiAndTheWrappers(string rid)
    {
        foreach (var shim in ShimsFor(rid))
        {
            CheckExports(shim);
        }
    }

    private static void CheckExports(string shim)
    {
        var symbols = NativeBuild.Run("readelf", ["--dyn-syms", "-W", shim]).EnsureSuccess("readelf --dyn-syms").Output;
        var defined = new List<string>();
        foreach (Match m in Regex.Matches(symbols,
            @"^\s*\d+:\s+[0-9a-f]+\s+\d+\s+(?<type>\w+)\s+(?<bind>\w+)\s+(?<vis>\w+)\s+(?<ndx>\w+)\s+(?<name>\S+)",
            RegexOptions.Multiline))
        {
            // undefined imports, and the local section symbols some linkers (aarch64) leave in .dynsym
            if (m.Groups["ndx"].Value is "UND" or "ABS" || (m.Groups["bind"].Value == "LOCAL" && m.Groups["type"].Value == "SECTION"))
            {
                continue;
            }
            var name = m.Groups["name"].Value;
            Assert.AreEqual("FUNC", m.Groups["type"].Value, $"{name} is not a function");
            Assert.AreEqual("GLOBAL", m.Groups["bind"].Value, $"{name} must be a strong global definition");
            Assert.AreEqual("DEFAULT", m.Groups["vis"].Value, $"{name} must have default visibility");
            Assert.IsFalse(name.Contains('@'), $"{name} is versioned: it would not interpose every caller");
            defined.Add(name);
        }
        CollectionAssert.AreEquivalent(ExpectedExports, defined, $"{shim}: {string.Join(", ", defined)}");
    }

    [TestMethod]
    [DataRow("linux-x64")]
    [DataRow("linux-arm64")]
    public void HasNoVersionDefinitionsAndNeedsOnlyLibcAndLibdl(string rid)
    {
        foreach (var shim in ShimsFor(rid))
        {
            CheckDynamicSection(shim);
        }
    }

    private static void CheckDynamicSection(string shim)
    {
        var versions = NativeBuild.Run("readelf", ["-V", "-W", shim]).EnsureSuccess("readelf -V").Output;
        Assert.IsFalse(versions.Contains("Version definition section", StringComparison.Ordinal), versions);
        var dynamic = NativeBuild.Run("readelf", ["-d", "-W", shim]).EnsureSuccess("readelf -d").Output;
        var needed = Regex.Matches(dynamic, @"\(NEEDED\)\s+Shared library: \[(?<lib>[^\]]+)\]")
            .Select(m => m.Groups["lib"].Value).ToList();
        // libdl.so.2 by name: dlsym lives there on glibc < 2.34 (Amazon Linux 2).
        CollectionAssert.AreEquivalent(new[] { "libc.so.6", "libdl.so.2" }, needed, dynamic);
        StringAssert.Contains(dynamic, "Library soname: [libsnaploader_preload.so]", dynamic);
        Assert.IsFalse(Regex.IsMatch(dynamic, @"\((RPATH|RUNPATH|TEXTREL)\)"), dynamic);
    }

    /// <summary>
    /// dlopen and dlmopen hand a miss to glibc through an indirect jump (x86-64 <c>jmp *%reg</c>, AArch64
    /// <c>br xN</c>), never <c>call</c>/<c>bl</c> then <c>ret</c>: glibc must see our caller's return address (the C
    /// test dlopen_runpath_tailcall proves the effect for dlopen; this covers dlmopen and both architectures). Every
    /// way out is a jump: the function has no <c>ret</c>.
    /// </summary>
    [TestMethod]
    [DataRow("linux-x64", "dlopen")]
    [DataRow("linux-x64", "dlmopen")]
    [DataRow("linux-arm64", "dlopen")]
    [DataRow("linux-arm64", "dlmopen")]
    public void DlopenWrapperEndsInATailCall(string rid, string function)
    {
        var objdump = rid == "linux-x64" ? "objdump" : TestPaths.FindOnPath("aarch64-linux-gnu-objdump");
        Assert.IsNotNull(objdump, "aarch64-linux-gnu-objdump is not installed (Debian: apt-get install binutils-aarch64-linux-gnu).");
        foreach (var shim in ShimsFor(rid))
        {
            var text = NativeBuild.Run(objdump, ["-d", "--no-show-raw-insn", $"--disassemble={function}", shim])
                .EnsureSuccess("objdump -d").Output;
            var instructions = Regex.Matches(text, @"^\s*[0-9a-f]+:\s+(?<insn>\S.*)$", RegexOptions.Multiline)
                .Select(m => m.Groups["insn"].Value.Trim())
                .Where(i => !i.StartsWith("nop", StringComparison.Ordinal) && !i.StartsWith("data16", StringComparison.Ordinal)
                    && !i.StartsWith("cs nop", StringComparison.Ordinal) && !i.StartsWith("xchg   %ax,%ax", StringComparison.Ordinal))
                .ToList();
            Assert.IsTrue(instructions.Count > 3, $"{function} not found in {shim}:\n{text}");
            var tail = rid == "linux-x64" ? new Regex(@"^jmp\s+\*%r\w+$") : new Regex(@"^br\s+x\d+$");
            Assert.IsTrue(instructions.Any(tail.IsMatch), $"{function} has no indirect jump into glibc:\n{text}");
            Assert.IsFalse(instructions.Any(i => i.StartsWith("ret", StringComparison.Ordinal)), $"{function} returns by itself:\n{text}");
        }
    }

    /// <summary>
    /// On arm64, snaploader_unregister puts a full fence (<c>dmb ish</c>) between its store of the removed mark
    /// (<c>stlr</c>) and its first read of the use count (<c>ldar</c>). The C standard's order needs no more, but
    /// qemu-user on x86-64 emulates STLR then LDAR without a store-load barrier, and a use could then slip past an
    /// unregister (seen as unregister_racing reading another file's byte under qemu).
    /// </summary>
    [TestMethod]
    public void UnregisterFencesItsMarkBeforeReadingTheUseCount()
    {
        var objdump = TestPaths.FindOnPath("aarch64-linux-gnu-objdump");
        Assert.IsNotNull(objdump, "aarch64-linux-gnu-objdump is not installed (Debian: apt-get install binutils-aarch64-linux-gnu).");
        foreach (var shim in ShimsFor("linux-arm64"))
        {
            var text = NativeBuild.Run(objdump, ["-d", "--no-show-raw-insn", "--disassemble=snaploader_unregister", shim])
                .EnsureSuccess("objdump -d").Output;
            var instructions = Regex.Matches(text, @"^\s*[0-9a-f]+:\s+(?<insn>\S.*)$", RegexOptions.Multiline)
                .Select(m => m.Groups["insn"].Value.Trim())
                .ToList();
            var mark = instructions.FindIndex(i => i.StartsWith("stlr", StringComparison.Ordinal));
            Assert.IsTrue(mark >= 0, $"no stlr (the removed mark) in snaploader_unregister of {shim}:\n{text}");
            var read = instructions.FindIndex(mark, i => i.StartsWith("ldar", StringComparison.Ordinal));
            Assert.IsTrue(read > mark, $"no ldar (the use count) after the mark in {shim}:\n{text}");
            Assert.IsTrue(instructions.Skip(mark).Take(read - mark).Any(i => Regex.IsMatch(i, @"^dmb\s+ish$")),
                $"no dmb ish between the mark and the use count in {shim}:\n{text}");
        }
    }

    private static IEnumerable<Version> GlibcVersions(string text) =>
        Regex.Matches(text, @"GLIBC_(\d+\.\d+(\.\d+)?)").Select(m => Version.Parse(m.Groups[1].Value));
}
