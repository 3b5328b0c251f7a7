using System.Diagnostics;
using System.Globalization;

namespace SnapLoader.Build.Tasks.S3;

/// <summary>
/// Counts the bytes sent by concurrent requests and logs a line each time another 10% is sent, and at
/// least every <see cref="ArchiveUploadOptions.ProgressInterval"/> while the upload runs (a timer, so a
/// stalled upload still says how far it got).
/// </summary>
internal sealed class UploadProgress : IDisposable
{
    private readonly object _gate = new();
    private readonly long _totalBytes;
    private readonly string _target;
    private readonly Action<string> _log;
    private readonly TimeSpan _interval;
    private readonly long[] _sentBySlot;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly Timer _timer;
    private TimeSpan _lastLine;
    private int _lastTenth;
    private bool _finished;

    /// <param name="totalBytes">The archive's size.</param>
    /// <param name="slots">One per request that sends a distinct range (one per part).</param>
    /// <param name="target">The object, for the log lines.</param>
    /// <param name="log">Where the lines go; called under a lock, never concurrently.</param>
    /// <param name="interval">The longest time between two lines.</param>
    public UploadProgress(long totalBytes, int slots, string target, Action<string> log, TimeSpan interval)
    {
        _totalBytes = totalBytes;
        _target = target;
        _log = log;
        _interval = interval;
        _sentBySlot = new long[slots];
        _timer = new Timer(_ => OnTimer(), null, interval, interval);
    }

    /// <summary>
    /// Records that the request of <paramref name="slot"/> has sent <paramref name="sentBytes"/> of its
    /// range so far. A retried request starts again from zero, and so does its count.
    /// </summary>
    public void Report(int slot, long sentBytes)
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }
            _sentBySlot[slot] = sentBytes;
            var sent = SentBytes();
            var tenth = _totalBytes == 0 ? 10 : (int)(sent * 10 / _totalBytes);
            if (tenth > _lastTenth && tenth < 10)
            {
                _lastTenth = tenth;
                WriteLine(sent);
            }
            else if (_elapsed.Elapsed - _lastLine >= _interval)
            {
                WriteLine(sent);
            }
        }
    }

    /// <summary>Logs the closing line with the size, the time and the mean rate.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            _finished = true;
            var seconds = Math.Max(_elapsed.Elapsed.TotalSeconds, 0.001);
            _log(string.Create(CultureInfo.InvariantCulture,
                $"Uploaded {_target}: {Megabytes(_totalBytes)} MB in {seconds:0.0} s ({_totalBytes / 1e6 / seconds:0.0} MB/s)."));
        }
    }

    /// <summary>Stops the timer; no line is logged after this returns.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _finished = true;
        }
        _timer.Dispose();
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (!_finished && _elapsed.Elapsed - _lastLine >= _interval)
            {
                WriteLine(SentBytes());
            }
        }
    }

    private long SentBytes()
    {
        long sent = 0;
        foreach (var slot in _sentBySlot)
        {
            sent += slot;
        }
        return Math.Min(sent, _totalBytes);
    }

    private void WriteLine(long sent)
    {
        _lastLine = _elapsed.Elapsed;
        var seconds = Math.Max(_elapsed.Elapsed.TotalSeconds, 0.001);
        var percent = _totalBytes == 0 ? 100 : sent * 100 / _totalBytes;
        _log(string.Create(CultureInfo.InvariantCulture,
            $"Uploading {_target}: {Megabytes(sent)} of {Megabytes(_totalBytes)} MB ({percent}%), {sent / 1e6 / seconds:0.0} MB/s."));
    }

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture);
}
