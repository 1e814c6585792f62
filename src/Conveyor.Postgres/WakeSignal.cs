namespace Conveyor.Postgres;

/// <summary>
/// "A job may be ready": set by this store's own enqueues, promotions and releases and by every NOTIFY the
/// listening connection receives; awaited by idle workers. The signal is sticky: a signal that arrives while no
/// worker waits wakes the next wait at once, so a job enqueued between a worker's empty dequeue and its wait is
/// never left until the poll interval. A wait consumes the signal, and so does the start of a dequeue; every worker
/// already waiting is woken.
/// </summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource _current = NewSource();

    public void Set() => Volatile.Read(ref _current).TrySetResult();

    /// <summary>
    /// A dequeue is about to begin: it sees every job made ready before now, so a signal given before now (one that also
    /// woke the fetcher through its own process's signal, or whose wait was cancelled when the other signal won) must not
    /// wake the wait after it. A signal given while the dequeue runs still does.
    /// </summary>
    public void DequeueStarting()
    {
        var source = Volatile.Read(ref _current);
        if (source.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _current, NewSource(), source);
        }
    }

    /// <summary>True when signalled; false after <paramref name="timeout"/> measured on <paramref name="timeProvider"/>, or once cancelled.</summary>
    public async ValueTask<bool> WaitAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var source = Volatile.Read(ref _current);
        if (!source.Task.IsCompleted)
        {
            if (timeout <= TimeSpan.Zero)
            {
                return false;
            }

            // A timeout or a cancel is not thrown (IJobQueueStore.WaitForJobsAsync).
            await source.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!source.Task.IsCompleted)
            {
                return false;
            }
        }

        // Consume: the next wait blocks until a new signal (unless another waiter already replaced the source).
        Interlocked.CompareExchange(ref _current, NewSource(), source);
        return true;
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
