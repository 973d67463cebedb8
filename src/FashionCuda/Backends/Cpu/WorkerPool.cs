namespace FashionCuda.Backends.Cpu;

/// <summary>
/// A fixed set of worker threads that run the indices of a parallel loop together with the calling thread.
/// Indices are handed out one at a time from a shared counter, so uneven work balances itself.
/// </summary>
/// <remarks>
/// The CPU backend owns one pool, so every kernel runs with the same degree of parallelism. A loop started from
/// inside another loop's body, or while another thread's loop is running, runs inline on the calling thread.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    [ThreadStatic] private static bool isInsideLoop;

    private readonly Thread[] workers;
    private readonly SemaphoreSlim[] wakeUps;
    private readonly ManualResetEventSlim finished = new(false, spinCount: 2000);
    private readonly object loopGate = new();
    private Action<int>? body;
    private int count;
    private int nextIndex;
    private int workersRunning;
    private Exception? firstError;
    private volatile bool stopping;

    /// <param name="threadCount">Threads that run a loop, the caller included; at least 1.</param>
    public WorkerPool(int threadCount)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "At least one thread is needed.");
        ThreadCount = threadCount;
        workers = new Thread[threadCount - 1];
        wakeUps = new SemaphoreSlim[threadCount - 1];
        for (int i = 0; i < workers.Length; i++)
        {
            wakeUps[i] = new SemaphoreSlim(0);
            int id = i;
            workers[i] = new Thread(() => RunWorker(id))
            {
                IsBackground = true,
                Name = $"FashionCuda CPU worker {i + 1}",
            };
            workers[i].Start();
        }
    }

    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="loopBody"/>(i) for each i in [0, <paramref name="loopCount"/>).</summary>
    /// <remarks>The first exception thrown by a body is rethrown here after all threads have stopped.</remarks>
    public void For(int loopCount, Action<int> loopBody)
    {
        if (loopCount <= 0)
            return;
        if (loopCount == 1 || workers.Length == 0 || isInsideLoop || !Monitor.TryEnter(loopGate))
        {
            for (int i = 0; i < loopCount; i++)
                loopBody(i);
            return;
        }
        try
        {
            body = loopBody;
            count = loopCount;
            nextIndex = 0;
            firstError = null;
            int helpers = Math.Min(workers.Length, loopCount - 1);
            workersRunning = helpers;
            finished.Reset();
            for (int i = 0; i < helpers; i++)
                wakeUps[i].Release();
            RunIndices();
            if (helpers > 0)
                finished.Wait();
            body = null;
            if (firstError is { } error)
                throw new AggregateException("A parallel CPU kernel failed.", error);
        }
        finally
        {
            Monitor.Exit(loopGate);
        }
    }

    private void RunWorker(int id)
    {
        while (true)
        {
            wakeUps[id].Wait();
            if (stopping)
                return;
            RunIndices();
            if (Interlocked.Decrement(ref workersRunning) == 0)
                finished.Set();
        }
    }

    private void RunIndices()
    {
        var loopBody = body!;
        isInsideLoop = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref nextIndex) - 1) < count)
                loopBody(i);
        }
        catch (Exception error)
        {
            Interlocked.CompareExchange(ref firstError, error, null);
            // Let the other threads run out of indices quickly.
            Volatile.Write(ref nextIndex, count);
        }
        finally
        {
            isInsideLoop = false;
        }
    }

    public void Dispose()
    {
        if (stopping)
            return;
        stopping = true;
        foreach (var wakeUp in wakeUps)
            wakeUp.Release();
        foreach (var worker in workers)
            worker.Join();
        foreach (var wakeUp in wakeUps)
            wakeUp.Dispose();
        finished.Dispose();
    }
}
