using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Moves scheduled jobs whose time has come, and retrying jobs whose backoff has passed, to their queues: at every tick,
/// and at the times this server's <see cref="PromotionAlarm"/> was asked for in between. At each tick it also asks the
/// store when jobs become due before the next one and rings the alarm at those times: a job scheduled 2 s ahead by any
/// process starts within <see cref="DueResolution"/> of its time, not up to a tick (1 s) after it.
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
    /// The times the store gives are rounded up to this: however many jobs fall due, and whichever server made them, a
    /// server promotes at most 50 times a second for them, each job at most this long after its time.
    /// </summary>
    internal static readonly TimeSpan DueResolution = TimeSpan.FromMilliseconds(20);

    /// <summary>The most due times asked for at once; the promotion at the last of them asks for the next ones.</summary>
    private const int MaxDueTimes = 50;

    /// <summary>The next tick; and whether the run in progress is a tick's (else an alarm's).</summary>
    private DateTimeOffset _nextTick;
    private bool _atTick;

    /// <summary>The last time the previous look at the due times gave: its promotion looks for the next ones.</summary>
    private DateTimeOffset? _lookAgainAt;

    protected override string Name => "Promoter";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        var tick = TimeProvider.GetUtcNow() + Period;
        alarm.Watch(Period);
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

                (_nextTick, _atTick) = (tick, atTick);
                await TickAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            alarm.Unwatch();
        }
    }

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var promotedUpTo = TimeProvider.GetUtcNow();
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

        if (_atTick || (_lookAgainAt is { } again && again <= TimeProvider.GetUtcNow()))
        {
            await RingAtDueTimesAsync(promotedUpTo, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Rings the alarm at the times jobs fall due from <paramref name="after"/> (what the promotion just now took) to the
    /// next tick: one that fell due since then rings at once. Jobs this process stores after this look ring the alarm
    /// themselves (<see cref="PromotionAlarm.RingForStored"/>); those another process stores wait for the next tick.
    /// </summary>
    private async Task RingAtDueTimesAsync(DateTimeOffset after, CancellationToken cancellationToken)
    {
        _lookAgainAt = null;
        IReadOnlyList<DateTimeOffset> due;
        try
        {
            due = await store.ListDueTimesAsync(after, _nextTick, DueResolution, MaxDueTimes, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException) when (!cancellationToken.IsCancellationRequested)
        {
            // The promotion just now reached the store; the next tick promotes these jobs, and looks again.
            return;
        }

        foreach (var time in due)
        {
            alarm.RingAt(time);
        }

        if (due.Count > 0)
        {
            _lookAgainAt = due[^1];
        }
    }
}
