using System.Text.Json.Serialization;
using Conveyor.AspNetCore.JobsApi.Contracts;

namespace Conveyor.AspNetCore.SchedulesApi.Contracts;

/// <summary>A schedule as <c>GET /schedules/{name}</c> shows it. Timestamps are RFC 3339 in UTC; absent ones are null.</summary>
internal sealed record ScheduleResponse
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>The tenant the schedule belongs to; one defined in code or configuration is the default tenant's.</summary>
    [JsonPropertyName("tenant")]
    public required string Tenant { get; init; }

    /// <summary>The cron expression (5 or 6 fields, or a macro such as <c>@daily</c>).</summary>
    [JsonPropertyName("cron")]
    public required string Cron { get; init; }

    /// <summary>The IANA time zone id the expression is read in.</summary>
    [JsonPropertyName("time_zone")]
    public required string TimeZone { get; init; }

    [JsonPropertyName("job_type")]
    public required string JobType { get; init; }

    /// <summary>The payload of every tick's job.</summary>
    [JsonPropertyName("payload")]
    public required RawJson Payload { get; init; }

    /// <summary>The queue of every tick's job.</summary>
    [JsonPropertyName("queue")]
    public required string Queue { get; init; }

    /// <summary>Retries of every tick's job; null for the server's Conveyor:DefaultMaxRetry.</summary>
    [JsonPropertyName("max_retry")]
    public int? MaxRetry { get; init; }

    /// <summary>Longest one attempt of a tick's job may run; null for no limit.</summary>
    [JsonPropertyName("timeout_seconds")]
    public double? TimeoutSeconds { get; init; }

    /// <summary><c>once</c>, <c>skip</c> or <c>all</c>.</summary>
    [JsonPropertyName("misfire")]
    public required string Misfire { get; init; }

    /// <summary><c>allow</c> or <c>skip_while_unfinished</c>.</summary>
    [JsonPropertyName("overlap")]
    public required string Overlap { get; init; }

    [JsonPropertyName("paused")]
    public bool Paused { get; init; }

    /// <summary>The next ticks, earliest first; empty while paused.</summary>
    [JsonPropertyName("next_fire_times")]
    public required IReadOnlyList<string> NextFireTimes { get; init; }

    /// <summary>The latest tick handled (fired, skipped as a misfire, or triggered by hand).</summary>
    [JsonPropertyName("last_fire_at")]
    public string? LastFireAt { get; init; }

    /// <summary>The latest job the schedule enqueued.</summary>
    [JsonPropertyName("last_job_id")]
    public string? LastJobId { get; init; }

    /// <summary>That job's status; null when there is none or it is no longer kept.</summary>
    [JsonPropertyName("last_job_status")]
    public string? LastJobStatus { get; init; }

    /// <summary><c>code</c> (AddSchedule or Conveyor:Schedules, written at every start) or <c>runtime</c> (this API).</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("created_at")]
    public required string CreatedAt { get; init; }

    [JsonPropertyName("updated_at")]
    public required string UpdatedAt { get; init; }
}
