using SnapLoader.Benchmarks;

// dotnet run -c Release --project tests/SnapLoader.Benchmarks -- compression [zstd:3,deflate:6,...] [--out results.md]
var arguments = args.ToList();
string? output = null;
var at = arguments.IndexOf("--out");
if (at >= 0 && at + 1 < arguments.Count)
{
    output = arguments[at + 1];
    arguments.RemoveRange(at, 2);
}

switch (arguments.FirstOrDefault())
{
    case "compression":
        var table = CompressionBenchmark.Run(arguments.ElementAtOrDefault(1), Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine(table);
        if (output is not null)
        {
            File.WriteAllText(output, table);
        }
        return 0;
    default:
        Console.Error.WriteLine("usage: SnapLoader.Benchmarks compression [zstd:3,deflate:6,stored:0,...] [--out file.md]");
        return 2;
}
