using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>Moves scheduled jobs whose time has come, and retrying jobs whose backoff has passed, to their queues.</summary>
internal sealed class Promoter(
    IJobStore store,
    JobReadySignal readySignal,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    private const int BatchSize = 1000;

    protected override string Name => "Promoter";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        int promoted;
        do
        {
            promoted = await store.PromoteDueAsync(BatchSize, cancellationToken).ConfigureAwait(false);
            if (promoted > 0)
            {
                readySignal.Set();
            }
        }
        while (promoted == BatchSize);
    }
}
