using ScottPlot;
using SnapLoader.Benchmarks.Load.Methods;

namespace SnapLoader.Benchmarks.Load;

/// <summary>One bar pair of the chart: a method's medians on one payload from one source.</summary>
internal sealed record ChartPoint(string PayloadId, long PayloadBytes, SourceKind Source, string Method, double Seconds, double PeakAnonShmemBytes)
{
    public static ChartPoint Of(MethodRuns runs) =>
        new(runs.Archive.PayloadId, runs.Archive.PayloadBytes, runs.Source, runs.Method, runs.MedianSeconds, runs.MedianPeakAnonShmem);
}

/// <summary>
/// The PNG beside the table: median time (top) and peak anonymous + memfd memory (bottom), one group of bars per payload
/// and source, one bar per method in the same colour in both panels.
/// </summary>
internal static class Chart
{
    public static void Save(IReadOnlyList<ChartPoint> points, string path)
    {
        var groups = points.GroupBy(p => (p.PayloadId, p.Source)).ToList();
        var methods = LoadMethod.Ids.Where(m => points.Any(p => p.Method == m)).ToList();
        var labels = groups.Select(g => $"{g.Key.PayloadId} ({g.First().PayloadBytes / 1e6:F0} MB)\n{g.Key.Source.Label()}").ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        Panel(multiplot.GetPlot(0), groups, methods, labels, p => p.Seconds, "Time (s), median", "{0:F2}");
        var memory = multiplot.GetPlot(1);
        Panel(memory, groups, methods, labels, p => p.PeakAnonShmemBytes / (1 << 20), "Peak anonymous + memfd memory (MiB), median; dashed: the payload itself", "{0:F0}");
        for (var g = 0; g < groups.Count; g++)
        {
            var payload = groups[g].First().PayloadBytes / (double)(1 << 20);
            var line = memory.Add.Line(g - 0.45, payload, g + 0.45, payload);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.Color = Colors.Black;
        }
        multiplot.SavePng(path, 1600, 1100);
    }

    private static void Panel(Plot plot, List<IGrouping<(string PayloadId, SourceKind Source), ChartPoint>> groups, List<string> methods,
        string[] groupLabels, Func<ChartPoint, double> value, string title, string valueFormat)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / methods.Count;
        for (var m = 0; m < methods.Count; m++)
        {
            var bars = new List<Bar>();
            for (var g = 0; g < groups.Count; g++)
            {
                if (groups[g].FirstOrDefault(p => p.Method == methods[m]) is not { } point)
                {
                    continue;
                }
                var v = value(point);
                bars.Add(new Bar
                {
                    Position = g - 0.4 + width * (m + 0.5),
                    Value = v,
                    Size = width * 0.9,
                    Label = string.Format(System.Globalization.CultureInfo.InvariantCulture, valueFormat, v),
                    FillColor = palette.GetColor(m),
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = LoadMethod.Label(methods[m]);
            plottable.ValueLabelStyle.FontSize = 10;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(), groupLabels);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        // Outside the data area: inside, it hid the first group's bars.
        plot.ShowLegend(Edge.Right);
    }
}
