using Conveyor.Diagnostics;
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
/// <para>
/// What it found is its lag, reported without asking the store anything more: <c>job_retention_backlog</c> is the
/// number of expired jobs deleted since the janitor last caught up. While deletion keeps up that is about one
/// interval's finishes; while runs end before catching up it grows, and after <see cref="GrowingRunsBeforeWarning"/>
/// such runs in a row a warning is logged (again every that many runs).
/// </para>
/// </remarks>
internal sealed class Janitor(
    IJobStore store,
    string serverId,
    ConveyorMetrics metrics,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    internal const string LockName = "conveyor:janitor";

    internal const int GrowingRunsBeforeWarning = 3;

    private readonly ILogger _logger = logger;
    private long _backlog;
    private int _growingRuns;

    protected override string Name => "Janitor";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await store.TryAcquireLockAsync(LockName, serverId, Period * 3, cancellationToken).ConfigureAwait(false))
        {
            _backlog = 0;
            _growingRuns = 0;
            metrics.RetentionBacklog(0);
            return;
        }

        var batchSize = Math.Max(1, store.PurgeBatchSize);
        var started = TimeProvider.GetTimestamp();
        var found = _backlog;
        bool caughtUp;
        while (true)
        {
            var deleted = await store.PurgeExpiredAsync(batchSize, cancellationToken).ConfigureAwait(false);
            found += deleted;
            if ((caughtUp = deleted < batchSize) || TimeProvider.GetElapsedTime(started) >= Period)
            {
                break;
            }

            // Let the work that waits for the store (acknowledgements, dequeues) go between two deletes.
            await Task.Yield();
        }

        metrics.RetentionBacklog(found);
        if (caughtUp)
        {
            _backlog = 0;
            _growingRuns = 0;
            return;
        }

        _backlog = found;
        if (++_growingRuns % GrowingRunsBeforeWarning == 0)
        {
            Log.JanitorBehind(_logger, found, _growingRuns);
        }
    }
}
