using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Deletes finished jobs whose retention has passed. Each run deletes batch after batch until a batch comes back
/// short (it has caught up), so deletion keeps up with any finish rate instead of a fixed number of jobs a tick.
/// Batches are the store's <see cref="IJobQueueStore.PurgeBatchSize"/>, so no single delete blocks the store's
/// writers for long, and the janitor yields between them.
/// </summary>
/// <remarks>
/// Only one server of a fleet purges at a time: the one that holds the store's <see cref="LockName"/> lock. Several
/// servers deleting the same rows would only contend on the same index (and on SQLite on the same writer); one
/// purger that keeps going deletes as fast as the store allows. The holder renews the lock at every run; if it
/// dies, another server takes over once the lock's time to live (three intervals) has passed.
/// A run that lasts longer than the interval stops there, renews the lock at the next run (which the timer
/// starts at once) and carries on.
/// </remarks>
internal sealed class Janitor(
    IJobStore store,
    string serverId,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    internal const string LockName = "conveyor:janitor";

        protected override string Name => "Janitor";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await store.TryAcquireLockAsync(LockName, serverId, Period * 3, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var batchSize = Math.Max(1, store.PurgeBatchSize);
        var started = TimeProvider.GetTimestamp();
        while (await store.PurgeExpiredAsync(batchSize, cancellationToken).ConfigureAwait(false) >= batchSize
            && TimeProvider.GetElapsedTime(started) < Period)
        {
            // Let the work that waits for the store (acknowledgements, dequeues) go between two deletes.
            await Task.Yield();
        }
    }
}
