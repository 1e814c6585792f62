namespace Conveyor.Storage;

/// <summary>
/// Schedules as store records, so that code, configuration, the HTTP API and every server see and change the same
/// ones. A schedule is keyed by tenant and name; another tenant's schedule is treated as one that does not exist.
/// </summary>
/// <remarks>
/// The store keeps schedules; it does not read cron expressions. Schedulers compute ticks, enqueue each tick's job
/// under an id derived from the schedule and the tick (a second enqueue of the same tick is refused as a duplicate
/// id) and then move the schedule on with <see cref="TryRecordScheduleFireAsync"/>, a compare-and-set on the next
/// tick: any number of schedulers produce one job per tick.
/// </remarks>
public interface IScheduleStore
{
    /// <summary>
    /// Stores a new schedule. <see cref="ScheduleRecord.CreatedAt"/> and <see cref="ScheduleRecord.UpdatedAt"/> are
    /// the store's now; <see cref="ScheduleRecord.LastFireAt"/> and <see cref="ScheduleRecord.LastJobId"/> start
    /// empty; <see cref="ScheduleRecord.Revision"/> starts at random. False (nothing written) if the tenant already has a schedule of that name.
    /// </summary>
    ValueTask<bool> TryCreateScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the definition, paused flag and next tick of an existing schedule (<see cref="ScheduleRecord.UpdatedAt"/>
    /// becomes the store's now, <see cref="ScheduleRecord.Revision"/> advances); its creation time, last tick and last
    /// job are kept. A compare-and-set: it applies only while the stored schedule is still at
    /// <paramref name="schedule"/>'s <see cref="ScheduleRecord.Revision"/>, the one it was read at. False (nothing
    /// written) if there is none or it was written since; the caller reads it again and decides again.
    /// </summary>
    ValueTask<bool> TryReplaceScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken);

    /// <summary>The schedule, or null if the tenant has none of that name.</summary>
    ValueTask<ScheduleRecord?> GetScheduleAsync(string tenant, string name, CancellationToken cancellationToken);

    /// <summary>The tenant's schedules (every tenant's when <paramref name="tenant"/> is null), ordered by tenant then name.</summary>
    ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string? tenant, CancellationToken cancellationToken);

    /// <summary>
    /// Unpaused schedules whose next tick is at or before <paramref name="until"/>, earliest first (then tenant and
    /// name), at most <paramref name="limit"/>.
    /// </summary>
    ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the ticks up to <see cref="ScheduleFire.LastFireAt"/> were handled, if the schedule's next tick is
    /// still <see cref="ScheduleFire.ExpectedNextFireAt"/>; true if it applied (<see cref="ScheduleRecord.Revision"/>
    /// advances), false if another scheduler (or a change, pause or delete) came first.
    /// </summary>
    ValueTask<bool> TryRecordScheduleFireAsync(ScheduleFire fire, CancellationToken cancellationToken);

    /// <summary>Deletes the schedule (its jobs are left alone); false if there was none.</summary>
    ValueTask<bool> DeleteScheduleAsync(string tenant, string name, CancellationToken cancellationToken);
}
