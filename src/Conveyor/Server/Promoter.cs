using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Moves scheduled jobs whose time has come, and retrying jobs whose backoff has passed, to their queues: at every tick,
/// and at the times this server's <see cref="PromotionAlarm"/> was asked for in between. At each tick it also asks the
/// store when jobs become due before the next one and rings the alarm at those times: a job scheduled 2 s ahead by any
/// process starts at its time, not up to a tick (1 s) after it.
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

    /// <summary>
    /// The most due times asked for at a tick: the alarm rounds to 5 ms, so a second between ticks holds at most 200
    /// promotions however many jobs fall due in it.
    /// </summary>
    private const int MaxDueTimes = 200;

    /// <summary>The next tick, while the run in progress is a tick's; null for a run an alarm rang.</summary>
    private DateTimeOffset? _nextTick;

    protected override string Name => "Promoter";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        var tick = TimeProvider.GetUtcNow() + Period;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var atTick = await alarm.WaitAsync(tick, TimeProvider, cancellationToken).ConfigureAwait(false);
                if (atTick)
                {
                    // Ticks keep their pace; one that came late (a long promotion) is not made up for.
                    tick += Period;
                    var now = TimeProvider.GetUtcNow();
                    if (tick <= now)
                    {
                        tick = now + Period;
                    }
                }

                _nextTick = atTick ? tick : null;
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

        if (_nextTick is { } nextTick)
        {
            // Jobs scheduled after this look and due before the next tick still wait for it.
            foreach (var due in await store.ListDueTimesAsync(nextTick, MaxDueTimes, cancellationToken).ConfigureAwait(false))
            {
                alarm.RingAt(due);
            }
        }
    }
}
