using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// Schedules at run time, as an operator sees them (the HTTP API uses this): read, create, change, pause, resume,
/// trigger now and delete, for every server sharing the store at once. Registered by <c>AddConveyor()</c>.
/// </summary>
public interface IScheduleClient
{
    /// <summary>
    /// The tenant's schedules, ordered by name; with a null tenant, every tenant's (an operator's view), by tenant, then name.
    /// Schedules defined in code or configuration are the default tenant's (<see cref="TenantId.Default"/>).
    /// </summary>
    Task<IReadOnlyList<ScheduleRecord>> ListAsync(string? tenant, CancellationToken cancellationToken = default);

    /// <summary>The schedule, or null if the tenant has none of that name.</summary>
    Task<ScheduleRecord?> GetAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a schedule (origin <see cref="ScheduleOrigin.Runtime"/>); its first tick is the first after now. Null when
    /// the tenant already has one of that name. Throws <see cref="ScheduleDefinitionException"/> for bad input; nothing
    /// is written then.
    /// </summary>
    Task<ScheduleRecord?> CreateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the definition of an existing schedule; null if there is none. Its next tick is computed again from now
    /// when the cron expression or time zone changed. Its paused state, history and origin stay.
    /// </summary>
    Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>Deletes the schedule (its jobs stay); false if there was none.</summary>
    Task<bool> DeleteAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>Stops the schedule's ticks until it is resumed; null if there is none.</summary>
    Task<ScheduleRecord?> PauseAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>Lets the schedule tick again from its next tick after now (ticks while paused do not run); null if there is none.</summary>
    Task<ScheduleRecord?> ResumeAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>Enqueues the schedule's job now, outside its ticks (paused or not); null if there is no such schedule.</summary>
    Task<EnqueueResult?> TriggerAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>The schedule's next <paramref name="count"/> ticks from its next one (none while paused).</summary>
    IReadOnlyList<DateTimeOffset> NextTicks(ScheduleRecord schedule, int count);
}
