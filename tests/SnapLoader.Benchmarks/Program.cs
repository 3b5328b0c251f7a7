using SnapLoader.Benchmarks;
using SnapLoader.Benchmarks.Load;

// dotnet run -c Release --project tests/SnapLoader.Benchmarks -- compression [zstd:3,deflate:6,...] [--out results.md]
// dotnet run -c Release --project tests/SnapLoader.Benchmarks -- load [--smoke] [--runs N] [--out folder]
// dotnet run -c Release --project tests/SnapLoader.Benchmarks -- publish [--runs N] [--out folder]
// dotnet run -c Release --project tests/SnapLoader.Benchmarks -- coldstart [--runs N] [--out folder]
var arguments = args.ToList();
switch (arguments.FirstOrDefault())
{
    case "compression":
        return RunCompression(arguments);
    case "load":
        LoadSettings settings;
        try
        {
            settings = LoadSettings.Parse(arguments.Skip(1).ToList());
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{e.Message}\nusage: SnapLoader.Benchmarks {LoadSettings.Usage}");
            return 2;
        }
        return await LoadBenchmark.RunAsync(settings, Console.WriteLine);
    case "publish":
        return SnapLoader.Benchmarks.Publish.PublishBenchmark.Run(arguments.Skip(1).ToList(), Console.WriteLine);
    case "coldstart":
        return SnapLoader.Benchmarks.ColdStart.ColdStartBenchmark.Run(arguments.Skip(1).ToList(), Console.WriteLine);
    case "load-chart":
        // Hidden: redraws FOLDER/load.png from FOLDER/load.json.
        LoadBenchmark.Replot(arguments.ElementAtOrDefault(1) ?? ".");
        return 0;
    case LoadOne.Command:
        // Hidden: the child process of `load`, one method once.
        return await LoadOne.RunAsync(arguments.Skip(1).ToList());
    default:
        Console.Error.WriteLine("usage: SnapLoader.Benchmarks compression [zstd:3,deflate:6,stored:0,...] [--out file.md]");
        Console.Error.WriteLine($"       SnapLoader.Benchmarks {LoadSettings.Usage}");
        Console.Error.WriteLine($"       SnapLoader.Benchmarks {SnapLoader.Benchmarks.Publish.PublishBenchmark.Usage}");
        Console.Error.WriteLine($"       SnapLoader.Benchmarks {SnapLoader.Benchmarks.ColdStart.ColdStartBenchmark.Usage}");
        return 2;
}

static int RunCompression(List<string> arguments)
{
    string? output = null;
    var at = arguments.IndexOf("--out");
    if (at >= 0 && at + 1 < arguments.Count)
    {
        output = arguments[at + 1];
        arguments.RemoveRange(at, 2);
    }
    var table = CompressionBenchmark.Run(arguments.ElementAtOrDefault(1), Console.WriteLine);
    Console.WriteLine();
    Console.WriteLine(table);
    if (output is not null)
    {
        File.WriteAllText(output, table);
    }
    return 0;
}
