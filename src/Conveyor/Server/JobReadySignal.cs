namespace Conveyor.Server;

/// <summary>
/// Wakes this process's idle fetcher when this process made a job ready (enqueue, promotion, recovery), so that a
/// job enqueued next to a server starts within a millisecond instead of at the next poll. A signal given while
/// nobody waits is kept for the next wait (auto-reset), so a wake-up is never lost between a dequeue that found
/// nothing and the wait that follows it.
/// </summary>
internal sealed class JobReadySignal
{
    private TaskCompletionSource _waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    public void Set()
    {
        Volatile.Write(ref _pending, 1);
        Volatile.Read(ref _waiter).TrySetResult();
    }

    /// <summary>
    /// A dequeue is about to begin: it sees every job made ready before now, so a signal given before now must not wake
    /// the wait that follows it. A job enqueued by this process is signalled twice, here and by the store itself
    /// (<see cref="Storage.IJobQueueStore.WaitForJobsAsync"/>): the first wakes the fetcher, and the second, left
    /// pending, sent a dequeue after it that could find nothing.
    /// </summary>
    public void DequeueStarting() => Volatile.Write(ref _pending, 0);

    /// <summary>
    /// True when signalled; false when <paramref name="timeout"/> passed or <paramref name="cancellationToken"/> was
    /// cancelled. Neither throws: the fetcher cancels the wait that lost its race at every wake-up, and an exception per
    /// wake-up (two or three with the awaits above it) cost a server at 100 jobs/s a few hundred a second.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _pending, 0) == 1)
        {
            return true;
        }

        var waiter = Volatile.Read(ref _waiter);
        if (waiter.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _waiter, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), waiter);
            waiter = Volatile.Read(ref _waiter);
            if (Interlocked.Exchange(ref _pending, 0) == 1)
            {
                return true;
            }
        }

        await waiter.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!waiter.Task.IsCompleted)
        {
            return false;
        }

        Interlocked.CompareExchange(ref _waiter, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), waiter);
        Interlocked.Exchange(ref _pending, 0);
        return true;
    }
}
