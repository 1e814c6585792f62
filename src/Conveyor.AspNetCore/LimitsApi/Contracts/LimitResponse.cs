using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.LimitsApi.Contracts;

/// <summary>
/// One limit in force: what it applies to (a queue, optionally one job type, counted once or per tenant) and its
/// numbers: <c>max</c> for a concurrency limit; <c>limit</c>, <c>period_seconds</c> and <c>burst</c> for a rate limit.
/// </summary>
internal sealed record LimitResponse
{
    /// <summary><c>concurrency</c> (jobs running at once) or <c>rate</c> (jobs started per period).</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("queue")]
    public required string Queue { get; init; }

    /// <summary>Only the jobs of this type; null for every job of the queue.</summary>
    [JsonPropertyName("job_type")]
    public string? JobType { get; init; }

    /// <summary><c>none</c>: one count for every job the limit matches; <c>tenant</c>: one count per tenant.</summary>
    [JsonPropertyName("partition")]
    public required string Partition { get; init; }

    /// <summary>Concurrency limits: the jobs running at once (per tenant when partitioned).</summary>
    [JsonPropertyName("max")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Max { get; init; }

    /// <summary>Rate limits: the starts per period (per tenant when partitioned).</summary>
    [JsonPropertyName("limit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Limit { get; init; }

    /// <summary>Rate limits: the period, in seconds.</summary>
    [JsonPropertyName("period_seconds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PeriodSeconds { get; init; }

    /// <summary>Rate limits: the starts allowed at once after a quiet period.</summary>
    [JsonPropertyName("burst")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Burst { get; init; }

    /// <summary><c>configuration</c>: written by a server from Conveyor:Limits; <c>api</c>: set through this API, overriding the configuration until deleted.</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>When the limit was last written (RFC 3339, UTC).</summary>
    [JsonPropertyName("updated_at")]
    public required string UpdatedAt { get; init; }
}
