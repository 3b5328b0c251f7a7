using System.Runtime.ExceptionServices;

namespace SnapLoader.Build.Tasks.Archive;

/// <summary>
/// A fixed number of threads that take jobs in plan order. Dedicated threads rather than the thread
/// pool: MSBuild runs many tasks on the pool, and long CPU-bound jobs there would starve them (and be
/// starved). The first failure stops the rest; disposing stops and joins every thread, so nothing
/// still writes into the scratch folder once the writer cleans it up.
/// </summary>
internal sealed class PackingWorkers : IDisposable
{
    private readonly IReadOnlyList<PackingJob> _jobs;
    private readonly CancellationTokenSource _stop;
    private readonly Thread[] _threads;
    private int _nextJob = -1;
    private ExceptionDispatchInfo? _failure;

    public PackingWorkers(IReadOnlyList<PackingJob> jobs, int workerCount, CancellationToken cancellationToken)
    {
        _jobs = jobs;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _threads = new Thread[Math.Min(Math.Max(1, workerCount), Math.Max(1, jobs.Count))];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"SnapLoader archive worker {i}" };
        }
    }

    /// <summary>Released once after every job, finished or failed, so the writer can wake up and look.</summary>
    public SemaphoreSlim JobEnded { get; } = new(0);

    public void Start()
    {
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>Rethrows the first failure of any job, on the calling thread.</summary>
    public void ThrowIfFailed() => Volatile.Read(ref _failure)?.Throw();

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads)
        {
            if (thread.ThreadState != ThreadState.Unstarted)
            {
                thread.Join();
            }
        }
        _stop.Dispose();
        JobEnded.Dispose();
    }

    private void Run()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            var index = Interlocked.Increment(ref _nextJob);
            if (index >= _jobs.Count)
            {
                return;
            }
            var job = _jobs[index];
            try
            {
                job.Work(token);
                job.Entry.CompleteJob();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped on purpose: by the caller's token, by another job's failure, or by Dispose.
                return;
            }
            catch (Exception e)
            {
                // Everything is caught: an exception escaping a thread would end the build process.
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                _stop.Cancel();
            }
            finally
            {
                JobEnded.Release();
            }
        }
    }
}
