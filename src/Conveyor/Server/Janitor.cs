using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Deletes finished jobs whose retention has passed, in bounded batches and at most <see cref="MaxBatchesPerTick"/>
/// batches a tick, so that a large backlog of expired jobs never produces one long, blocking delete.
/// </summary>
internal sealed class Janitor(
    IJobStore store,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    private const int BatchSize = 1000;
    private const int MaxBatchesPerTick = 20;

    protected override string Name => "Janitor";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < MaxBatchesPerTick; i++)
        {
            if (await store.PurgeExpiredAsync(BatchSize, cancellationToken).ConfigureAwait(false) < BatchSize)
            {
                return;
            }
        }
    }
}
