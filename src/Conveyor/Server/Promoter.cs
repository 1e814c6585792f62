using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Moves scheduled jobs whose time has come, and retrying jobs whose backoff has passed, to their queues: at every tick,
/// and at the times this server's <see cref="PromotionAlarm"/> was asked for in between.
/// </summary>
internal sealed class Promoter(
    IJobStore store,
    JobReadySignal readySignal,
    PromotionAlarm alarm,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    private const int BatchSize = 1000;

    protected override string Name => "Promoter";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        var tick = TimeProvider.GetUtcNow() + Period;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (await alarm.WaitAsync(tick, TimeProvider, cancellationToken).ConfigureAwait(false))
                {
                    // Ticks keep their pace; one that came late (a long promotion) is not made up for.
                    tick += Period;
                    var now = TimeProvider.GetUtcNow();
                    if (tick <= now)
                    {
                        tick = now + Period;
                    }
                }

                await TickAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

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
