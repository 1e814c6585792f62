using Conveyor.Storage;

namespace Conveyor.Scheduling;

/// <summary>The next tick of a schedule whose cron or time zone a replacement changes.</summary>
internal static class ScheduleRetiming
{
    /// <summary>
    /// The new cron's next tick after <paramref name="now"/>, except that a tick of the old definition already due and
    /// not yet handled (a change landing a moment after its time, before the scheduler fired it) still runs when no
    /// tick of the new cron falls between it and now: the change would otherwise drop it silently, neither run nor
    /// counted as missed. With such a tick between (a due tick left from an outage), the old tick is dropped as before,
    /// rather than run the new cron's ticks from before the change.
    /// </summary>
    public static DateTimeOffset? NextFireAt(DateTimeOffset? currentNextFireAt, ScheduleRecord replacement, DateTimeOffset now)
    {
        if (currentNextFireAt is { } due && due <= now)
        {
            var afterDue = CronSchedule.Parse(replacement.Name, replacement.Cron, replacement.TimeZone).Next(due);
            if (afterDue is null || afterDue > now)
            {
                return due;
            }
        }

        return replacement.NextFireAt;
    }
}
