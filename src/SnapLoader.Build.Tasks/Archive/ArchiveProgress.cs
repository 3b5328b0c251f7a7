using System.Diagnostics;
using System.Globalization;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// Counts source bytes as workers process them and turns the count into short lines. Workers only
/// add; lines are written from the thread that called <see cref="ArchiveWriter.Write"/>, because an
/// MSBuild logger must not be called from other threads.
/// </summary>
internal sealed class ArchiveProgress
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(5);

    private readonly Action<string>? _report;
    private readonly string _archiveName;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _processed;
    private long _lastReportedBytes;
    private TimeSpan _lastReportedAt;

    public ArchiveProgress(Action<string>? report, string archiveName, long totalBytes)
    {
        _report = report;
        _archiveName = archiveName;
        _total = totalBytes;
    }

    /// <summary>Time since writing started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Called by workers for every chunk of source they have processed.</summary>
    public void Add(long bytes) => Interlocked.Add(ref _processed, bytes);

    /// <summary>Writes the first line.</summary>
    public void Start(int entryCount, string method, int workers) =>
        _report?.Invoke(string.Create(
            CultureInfo.InvariantCulture,
            $"Packing {entryCount} file(s), {Megabytes(_total)} MB, into {_archiveName} ({method}, {workers} worker(s))."));

    /// <summary>
    /// Writes a line when the count has moved by a tenth of the total or five seconds have passed since
    /// the last one. Cheap enough to call between any two buffers.
    /// </summary>
    public void Poll()
    {
        if (_report is null || _total == 0)
        {
            return;
        }
        var processed = Interlocked.Read(ref _processed);
        var now = _clock.Elapsed;
        if (processed - _lastReportedBytes < _total / 10 && now - _lastReportedAt < s_interval)
        {
            return;
        }
        if (processed == _lastReportedBytes && processed == _total)
        {
            return;
        }
        _lastReportedBytes = processed;
        _lastReportedAt = now;
        _report(string.Create(
            CultureInfo.InvariantCulture,
            $"Packing {_archiveName}: {processed * 100 / _total}% ({Megabytes(processed)} of {Megabytes(_total)} MB, {now.TotalSeconds:F1} s)."));
    }

    /// <summary>Writes the last line.</summary>
    public void Finish(int entryCount, long archiveLength) =>
        _report?.Invoke(string.Create(
            CultureInfo.InvariantCulture,
            $"Packed {entryCount} file(s) into {_archiveName}: {Megabytes(_total)} MB -> {Megabytes(archiveLength)} MB in {_clock.Elapsed.TotalSeconds:F1} s."));

    private static string Megabytes(long bytes) => (bytes / 1_000_000.0).ToString("F1", CultureInfo.InvariantCulture);
}
