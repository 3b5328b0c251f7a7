using System.Diagnostics;
using System.Runtime.InteropServices;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Load;

/// <summary>Where and on what the figures were measured, for the report.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, long MemoryBytes, string Framework, string Commit, string LoadAverageBefore, string? LoadAverageAfter)
{
    public string Summary => $"{Cores} cores ({CpuModel}), {MemoryBytes / (double)(1L << 30):F0} GiB, {Framework}, commit {Commit}";

    public static MachineInfo Read() => new(
        Environment.ProcessorCount,
        ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        long.Parse((ProcField("/proc/meminfo", "MemTotal") ?? "0").Replace("kB", "").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024,
        RuntimeInformation.FrameworkDescription,
        GitDescribe(),
        LoadAverage(),
        null);

    /// <summary>The 1, 5 and 15 minute load averages: how busy the machine was with other work.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string? ProcField(string file, string name) =>
        File.ReadLines(file).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();

    // "-dirty" says the build included uncommitted changes, which the report must not hide.
    private static string GitDescribe()
    {
        try
        {
            var start = new ProcessStartInfo("git", ["describe", "--always", "--dirty", "--abbrev=12"])
            {
                WorkingDirectory = TestPaths.RepositoryRoot,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var git = Process.Start(start)!;
            var commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }
}
