namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore : IJobCancellationSignal
{
    // Copied on write, so a cancel can notify without holding the lock while callbacks run.
    private Action<string>[] _cancellationSubscribers = [];

    /// <inheritdoc />
    public IDisposable SubscribeToCancellations(Action<string> onCancelRequested)
    {
        ArgumentNullException.ThrowIfNull(onCancelRequested);
        lock (_gate)
        {
            _cancellationSubscribers = [.. _cancellationSubscribers, onCancelRequested];
        }

        return new CancellationSubscription(this, onCancelRequested);
    }

    /// <summary>Tells every subscriber that the active job's cancellation was requested. Called outside the lock.</summary>
    private void NotifyCancelRequested(string jobId)
    {
        foreach (var subscriber in Volatile.Read(ref _cancellationSubscribers))
        {
            subscriber(jobId);
        }
    }

    private sealed class CancellationSubscription(InMemoryJobStore store, Action<string> subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            lock (store._gate)
            {
                var index = Array.IndexOf(store._cancellationSubscribers, subscriber);
                if (index >= 0)
                {
                    store._cancellationSubscribers = [.. store._cancellationSubscribers[..index], .. store._cancellationSubscribers[(index + 1)..]];
                }
            }
        }
    }
}
