namespace Conveyor.Storage;

/// <summary>
/// A schedule as the store keeps it: its definition, whether it is paused, and where it stands (next tick, last tick
/// fired and that tick's job). Schedules are keyed by tenant and name.
/// </summary>
public sealed record ScheduleRecord
{
    /// <summary>The tenant the schedule belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>The schedule's name, unique per tenant.</summary>
    public required string Name { get; init; }

    /// <summary>The cron expression (5 or 6 fields, or a macro such as <c>@daily</c>).</summary>
    public required string Cron { get; init; }

    /// <summary>The IANA time zone id the cron expression is read in.</summary>
    public required string TimeZone { get; init; }

    /// <summary>The type of the job each fire enqueues.</summary>
    public required string JobType { get; init; }

    /// <summary>The payload of every tick's job (UTF-8 JSON).</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The queue of every tick's job; null for the client's default.</summary>
    public string? Queue { get; init; }

    /// <summary>The tick job's retries; null for the client's default.</summary>
    public int? MaxRetry { get; init; }

    /// <summary>The tick job's timeout per attempt; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>What happens to fires missed while no scheduler ran.</summary>
    public MisfirePolicy Misfire { get; init; }

    /// <summary>What happens when a fire comes while the previous fire's job still runs.</summary>
    public OverlapPolicy Overlap { get; init; }

    /// <summary>True while the schedule is paused: it does not fire.</summary>
    public bool Paused { get; init; }

    /// <summary>Where the schedule comes from: code and configuration, or the HTTP API.</summary>
    public ScheduleOrigin Origin { get; init; }

    /// <summary>The next tick not yet handled; null while paused.</summary>
    public DateTimeOffset? NextFireAt { get; init; }

    /// <summary>The latest tick that was handled (fired, skipped or triggered by hand).</summary>
    public DateTimeOffset? LastFireAt { get; init; }

    /// <summary>The id of the latest job the schedule enqueued.</summary>
    public string? LastJobId { get; init; }

    /// <summary>Set by the store when the schedule is created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Set by the store at every change of the definition.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// Advanced by the store at every write to the schedule (a replace, a tick recorded). A replace applies only to
    /// the revision it was read at (<see cref="IScheduleStore.TryReplaceScheduleAsync"/>), so that a pause, a change
    /// or a tick written meanwhile is never overwritten with what was read before it. A new schedule starts at a value
    /// the store draws at random below 2^52 (exact as a double, for Redis's scripts), so a replace decided on a schedule
    /// deleted since does not apply to a new one of the same name.
    /// </summary>
    public long Revision { get; init; }
}
