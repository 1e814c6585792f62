namespace Conveyor;

/// <summary>
/// A recurring schedule: every tick of <see cref="Cron"/> in <see cref="TimeZone"/> enqueues one job of
/// <see cref="JobType"/>. Defined in code (<c>AddSchedule</c>), in configuration (<c>Conveyor:Schedules</c>, a list of
/// these) or at run time (<see cref="IScheduleClient"/>, the HTTP API).
/// </summary>
public sealed class ScheduleDefinition
{
    /// <summary>Unique within the tenant: 1 to 100 letters, digits, '_', '-', ':' and '.'.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>
    /// A cron expression read by Cronos: 5 fields (minute hour day-of-month month day-of-week), 6 fields (seconds
    /// first), or a macro (<c>@yearly</c>, <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>, <c>@hourly</c>, <c>@every_minute</c>, <c>@every_second</c>).
    /// </summary>
    public string Cron { get; set; } = string.Empty;

    /// <summary>
    /// The IANA time zone the expression is read in (<c>Europe/Berlin</c>). Default UTC. A zone of the host's list in
    /// another letter case is stored as the time zone database spells it (<c>utc</c> as <c>UTC</c>); a link such as
    /// <c>US/Eastern</c> only as spelled.
    /// </summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The job type every tick enqueues; a handler must be registered for it.</summary>
    public string JobType { get; set; } = string.Empty;

    /// <summary>The payload of every tick's job, as JSON. Default <c>{}</c>.</summary>
    public string? Payload { get; set; }

    /// <summary>The tenant that owns the schedule and its jobs. Default <c>default</c>.</summary>
    public string Tenant { get; set; } = TenantId.Default;

    /// <summary>The queue of every tick's job; null for the default queue.</summary>
    public string? Queue { get; set; }

    /// <summary>Retries of every tick's job; null for <c>Conveyor:DefaultMaxRetry</c>.</summary>
    public int? MaxRetry { get; set; }

    /// <summary>Timeout of each attempt of a tick's job; null for none.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>What to do with ticks missed while no server ran. Default <see cref="MisfirePolicy.Once"/>.</summary>
    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.Once;

    /// <summary>What to do at a tick while the previous tick's job has not finished. Default <see cref="OverlapPolicy.Allow"/>.</summary>
    public OverlapPolicy Overlap { get; set; } = OverlapPolicy.Allow;

    /// <summary>
    /// Create the schedule paused. Applies when the schedule is created; afterwards pause and resume are the
    /// operator's (HTTP API), and a restart does not undo them.
    /// </summary>
    public bool Paused { get; set; }
}
