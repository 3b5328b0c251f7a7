using System.Diagnostics;
using SnapLoader.Benchmarks.Load.Methods;

namespace SnapLoader.Benchmarks.Load;

/// <summary>
/// The child side: <c>load-one METHOD ARCHIVE SOURCE</c> runs one method once in this fresh process and prints its
/// <see cref="Measurement"/>. A fresh process per measurement keeps one method's heap, page tables and loaded
/// libraries out of the next one's figures (and libtorch_cpu.so cannot be loaded twice in one process anyway).
/// </summary>
internal static class LoadOne
{
    public const string Command = "load-one";

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        if (arguments.Count != 3)
        {
            Console.Error.WriteLine($"usage: {Command} METHOD ARCHIVE SOURCE");
            return 2;
        }
        var archive = BenchmarkArchive.Read(arguments[1]);
        var method = LoadMethod.Create(arguments[0], archive, SourceKinds.Parse(arguments[2]));
        method.Prepare();

        var probe = MemoryProbe.Start();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await method.RunAsync().ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        probe.Stop();
        var measurement = new Measurement(seconds, MemoryProbe.PeakRss(), probe.PeakAnonShmem, probe.Samples, cpu.TotalSeconds);

        method.CleanUp();
        Console.WriteLine(measurement.ToLine());
        return 0;
    }
}
