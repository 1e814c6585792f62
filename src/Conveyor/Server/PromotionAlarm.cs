using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>
/// The times at which this process wants scheduled jobs promoted before the promoter's next tick: the turns a rate limit
/// gave the jobs it refused (<see cref="Limits.RateLimitLines"/>), and the times of jobs this process stored due before
/// that tick (<see cref="RingForStored"/>). A limit of 10 a second spaces its jobs' turns 100 ms apart; promoted only at
/// the tick (<see cref="JobServerOptions.PromoteInterval"/>, 1 s), they came back ten at once and all but one were
/// refused again. One per service provider: its clients and its server share it.
/// </summary>
internal sealed class PromotionAlarm
{
    /// <summary>
    /// Alarms are rounded up to this, so that turns close together ring together and one promotion serves them: with
    /// many tenants each behind a per-tenant limit, turns fall in nearly every millisecond. A job promoted up to 5 ms after
    /// its turn is still well within the 20 ms a job may wait in its worker for its permit.
    /// </summary>
    private const long ResolutionTicks = 5 * TimeSpan.TicksPerMillisecond;

    /// <summary>The most alarms kept: beyond it a turn waits for the tick, as before there were alarms.</summary>
    private const int MaxAlarms = 100_000;

    private readonly Lock _lock = new();
    private readonly SortedSet<long> _alarms = [];
    private TaskCompletionSource _earlier = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How far ahead a stored job rings: the promoter's period while one waits on this alarm, else zero.</summary>
    private long _watchedTicks;

    /// <summary>The earliest alarm asked for and not rung yet, rounded as it rings; null for none.</summary>
    internal DateTimeOffset? Earliest
    {
        get
        {
            lock (_lock)
            {
                return _alarms.Count > 0 ? new DateTimeOffset(_alarms.Min, TimeSpan.Zero) : null;
            }
        }
    }

    /// <summary>A promoter waits on this alarm and looks at the store's due times every <paramref name="period"/>.</summary>
    internal void Watch(TimeSpan period) => Volatile.Write(ref _watchedTicks, period.Ticks);

    /// <summary>No promoter waits on this alarm: stored jobs no longer ring it (nothing would clear their alarms).</summary>
    internal void Unwatch() => Volatile.Write(ref _watchedTicks, 0);

    /// <summary>
    /// Rings at the times of the jobs just stored by this process as scheduled (<paramref name="results"/>, the store's
    /// answers, in the order of <paramref name="jobs"/>) that fall due before the promoter's next look at the store's due
    /// times (<see cref="Promoter"/>): that look came before them, so without this they waited for the tick, up to a
    /// period after their time. A job whose time passed during the store call rings at once. Rounded as the promoter
    /// rounds the times it reads, so that a job it also read rings once.
    /// </summary>
    public void RingForStored(IReadOnlyList<NewJob> jobs, IReadOnlyList<EnqueueResult> results, DateTimeOffset now)
    {
        var watched = Volatile.Read(ref _watchedTicks);
        if (watched == 0)
        {
            return;
        }

        for (var i = 0; i < results.Count && i < jobs.Count; i++)
        {
            if (results[i] is { State: JobState.Scheduled, IsDuplicate: false } && jobs[i].ProcessAt is { } at && at.UtcTicks - now.UtcTicks < watched)
            {
                RingAt(DueTimes.RoundUp(at, DueTimes.Step(Promoter.DueResolution)));
            }
        }
    }

    /// <summary>Asks for a promotion at <paramref name="at"/>.</summary>
    public void RingAt(DateTimeOffset at)
    {
        // Rounded up: a job scheduled at a turn is due from that turn on, never before it.
        var ticks = (at.UtcTicks + ResolutionTicks - 1) / ResolutionTicks * ResolutionTicks;
        TaskCompletionSource? wake = null;
        lock (_lock)
        {
            if (_alarms.Count >= MaxAlarms || !_alarms.Add(ticks))
            {
                return;
            }

            if (_alarms.Min == ticks)
            {
                wake = _earlier;
                _earlier = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// A timer's wait that ends at <paramref name="wait"/> or after it: whole milliseconds rounded up, and one more,
    /// because a timer counts in the milliseconds of a clock read when it was set and may end up to one early.
    /// </summary>
    internal static TimeSpan TimerWait(TimeSpan wait) =>
        wait <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds) + 1);

    /// <summary>
    /// Waits until <paramref name="tick"/> or the earliest alarm before it, whichever comes first; returns false when an
    /// alarm rang (its alarms up to now are cleared), true at the tick.
    /// </summary>
    public async Task<bool> WaitAsync(DateTimeOffset tick, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task earlier;
            DateTimeOffset due;
            var now = timeProvider.GetUtcNow();
            lock (_lock)
            {
                if (now >= tick || (_alarms.Count > 0 && _alarms.Min <= now.UtcTicks))
                {
                    var rang = _alarms.Count > 0 && _alarms.Min <= now.UtcTicks && _alarms.Min < tick.UtcTicks;
                    while (_alarms.Count > 0 && _alarms.Min <= now.UtcTicks)
                    {
                        _alarms.Remove(_alarms.Min);
                    }

                    return !rang;
                }

                due = _alarms.Count > 0 && _alarms.Min < tick.UtcTicks ? new DateTimeOffset(_alarms.Min, TimeSpan.Zero) : tick;
                earlier = _earlier.Task;
            }

            // Not thrown: the wait times out at every tick (once a second), and an alarm rang or the tick came either way.
            await earlier.WaitAsync(TimerWait(due - now), timeProvider, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
