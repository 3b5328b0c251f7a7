using ScottPlot;
using SnapLoader.Benchmarks.Load.Methods;

namespace SnapLoader.Benchmarks.Load;

/// <summary>
/// The PNG beside the table: median time (top) and peak anonymous + memfd memory (bottom), one group of bars per payload
/// and source, one bar per method in the same colour in both panels.
/// </summary>
internal static class Chart
{
    public static void Save(IReadOnlyList<MethodRuns> results, string path)
    {
        var groups = results.GroupBy(r => (r.Archive.PayloadId, r.Source)).ToList();
        var methods = LoadMethod.Ids.Where(m => results.Any(r => r.Method == m)).ToList();
        var labels = groups.Select(g => $"{g.Key.PayloadId} ({g.First().Archive.PayloadBytes / 1e6:F0} MB)\n{g.Key.Source.Label()}").ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        Panel(multiplot.GetPlot(0), groups, methods, labels, r => r.MedianSeconds, "Time (s), median", "{0:F2}");
        var memory = multiplot.GetPlot(1);
        Panel(memory, groups, methods, labels, r => r.MedianPeakAnonShmem / (1 << 20), "Peak anonymous + memfd memory (MiB); dashed: the payload itself", "{0:F0}");
        for (var g = 0; g < groups.Count; g++)
        {
            var payload = groups[g].First().Archive.PayloadBytes / (double)(1 << 20);
            var line = memory.Add.Line(g - 0.45, payload, g + 0.45, payload);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.Color = Colors.Black;
        }
        multiplot.SavePng(path, 1600, 1100);
    }

    private static void Panel(Plot plot, List<IGrouping<(string PayloadId, SourceKind Source), MethodRuns>> groups, List<string> methods,
        string[] groupLabels, Func<MethodRuns, double> value, string title, string valueFormat)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / methods.Count;
        for (var m = 0; m < methods.Count; m++)
        {
            var bars = new List<Bar>();
            for (var g = 0; g < groups.Count; g++)
            {
                if (groups[g].FirstOrDefault(r => r.Method == methods[m]) is not { } runs)
                {
                    continue;
                }
                var v = value(runs);
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
        plot.ShowLegend(Alignment.UpperLeft);
    }
}
