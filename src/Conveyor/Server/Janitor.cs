using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Deletes finished jobs whose retention has passed, then trims the queues that have a count cap down to their newest
/// jobs. Each run deletes batch after batch until a batch comes back short (it has caught up), so deletion keeps up
/// with any finish rate instead of a fixed number of jobs a tick. Batches are the store's
/// <see cref="IJobQueueStore.PurgeBatchSize"/>, so no single delete blocks the store's writers for long, and the
/// janitor yields between them.
/// </summary>
/// <remarks>
/// Only one server of a fleet purges at a time: the one that holds the store's <see cref="LockName"/> lock. Several
/// servers deleting the same rows would only contend on the same index (and on SQLite on the same writer); one
/// purger that keeps going deletes as fast as the store allows. The holder renews the lock at every run; if it
/// dies, another server takes over once the lock's time to live (three intervals) has passed.
/// A run that lasts longer than the interval stops there, renews the lock at the next run (which the timer
/// starts at once) and carries on.
/// <para>
/// The count caps (<see cref="ConveyorRetentionOptions.MaxSucceededPerQueue"/>, <see cref="ConveyorRetentionOptions.Queues"/>)
/// apply to the queues this server serves, the queues of every live server in the store's registry (so the one
/// janitor of a fleet trims the queues of all its servers) and the queues named in the retention options. A queue
/// with jobs that no live server serves and no option names is left to age retention. A queue trimmed down to its
/// caps is trimmed again <see cref="TrimPause"/> later (one still behind at the next run), so a capped queue holds up
/// to that long's finishes beyond its cap.
/// </para>
/// <para>
/// What it found is its lag, reported without asking the store anything more: <c>job_retention_backlog</c> is the
/// number of jobs deleted (expired or over a cap) since the janitor last caught up. While deletion keeps up that is
/// about one interval's finishes; while runs end before catching up it grows, and after
/// <see cref="GrowingRunsBeforeWarning"/> such runs in a row a warning is logged (again every that many runs).
/// </para>
/// </remarks>
internal sealed class Janitor(
    IJobStore store,
    string serverId,
    ConveyorMetrics metrics,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger,
    ConveyorRetentionOptions? retention = null,
    IEnumerable<string>? servedQueues = null) : PeriodicComponent(interval, timeProvider, logger)
{
    internal const string LockName = "conveyor:janitor";

    internal const int GrowingRunsBeforeWarning = 3;

    /// <summary>
    /// How long a capped queue that was trimmed down to its caps is left alone: finding out that a queue is within its
    /// cap walks the kept jobs' index entries on SQLite and PostgreSQL, which is not worth doing every second.
    /// </summary>
    internal static readonly TimeSpan TrimPause = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger = logger;
    private readonly ConveyorRetentionOptions _retention = retention ?? new();
    private readonly string[] _servedQueues = [.. servedQueues ?? []];
    // Per queue: when a trim last caught up with it (a timestamp of the TimeProvider).
    private readonly Dictionary<string, long> _trimmedAt = new(StringComparer.Ordinal);
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

        var run = new Run(TimeProvider.GetTimestamp(), Math.Max(1, store.PurgeBatchSize), _backlog);
        var caughtUp = await DrainAsync(run, ct => store.PurgeExpiredAsync(run.BatchSize, ct), cancellationToken).ConfigureAwait(false);
        if (caughtUp && _retention.HasCaps)
        {
            foreach (var queue in await CappedQueuesAsync(cancellationToken).ConfigureAwait(false))
            {
                var (keepSucceeded, keepFailed) = _retention.CapsOf(queue);
                if (keepSucceeded is null && keepFailed is null)
                {
                    continue;
                }

                if (_trimmedAt.TryGetValue(queue, out var trimmedAt) && TimeProvider.GetElapsedTime(trimmedAt) < TrimPause)
                {
                    continue;
                }

                caughtUp = await DrainAsync(run, ct => store.TrimFinishedAsync(queue, keepSucceeded, keepFailed, run.BatchSize, ct), cancellationToken).ConfigureAwait(false);
                if (!caughtUp)
                {
                    _trimmedAt.Remove(queue);
                    break;
                }

                _trimmedAt[queue] = TimeProvider.GetTimestamp();
            }
        }

        var found = run.Found;
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

    /// <summary>
    /// Runs one delete batch after another until a batch comes back short (true: caught up) or the run has lasted an
    /// interval (false), counting what each deleted into the run.
    /// </summary>
    private async Task<bool> DrainAsync(Run run, Func<CancellationToken, ValueTask<int>> deleteBatch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var deleted = await deleteBatch(cancellationToken).ConfigureAwait(false);
            run.Found += deleted;
            if (deleted < run.BatchSize)
            {
                return true;
            }

            if (TimeProvider.GetElapsedTime(run.Started) >= Period)
            {
                return false;
            }

            // Let the work that waits for the store (acknowledgements, dequeues) go between two deletes.
            await Task.Yield();
        }
    }

    /// <summary>The queues a count cap may apply to, in name order.</summary>
    private async ValueTask<SortedSet<string>> CappedQueuesAsync(CancellationToken cancellationToken)
    {
        var queues = new SortedSet<string>(_retention.Queues.Keys, StringComparer.Ordinal);
        if (_retention.MaxSucceededPerQueue is null && _retention.MaxFailedPerQueue is null)
        {
            return queues;
        }

        queues.UnionWith(_servedQueues);
        foreach (var server in await store.ListServersAsync(cancellationToken).ConfigureAwait(false))
        {
            queues.UnionWith(server.Queues.Keys);
        }

        return queues;
    }

    private sealed class Run(long started, int batchSize, long found)
    {
        public long Started { get; } = started;

        public int BatchSize { get; } = batchSize;

        public long Found { get; set; } = found;
    }
}
