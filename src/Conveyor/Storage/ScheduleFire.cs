namespace Conveyor.Storage;

/// <summary>
/// Moves a schedule past the ticks a scheduler has handled, if no other scheduler did first: applies only while the
/// schedule's next tick is still <see cref="ExpectedNextFireAt"/>.
/// </summary>
public sealed record ScheduleFire
{
    /// <summary>The schedule's tenant.</summary>
    public required string Tenant { get; init; }

    /// <summary>The schedule's name.</summary>
    public required string Name { get; init; }

    /// <summary>The next tick the scheduler read (null: the schedule had none); the fire applies only if the store still has it.</summary>
    public required DateTimeOffset? ExpectedNextFireAt { get; init; }

    /// <summary>The schedule's new next tick (null when the cron expression has no more).</summary>
    public DateTimeOffset? NextFireAt { get; init; }

    /// <summary>The latest tick handled.</summary>
    public required DateTimeOffset LastFireAt { get; init; }

    /// <summary>The latest job enqueued; null keeps the one recorded (no job was enqueued: skipped ticks).</summary>
    public string? LastJobId { get; init; }
}
