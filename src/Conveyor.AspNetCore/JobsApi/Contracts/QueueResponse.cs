using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>One queue's jobs by status (across tenants), whether it is paused, the wait of its oldest queued job, and its limits.</summary>
internal sealed record QueueResponse
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("paused")]
    public bool Paused { get; init; }

    [JsonPropertyName("scheduled")]
    public long Scheduled { get; init; }

    [JsonPropertyName("queued")]
    public long Queued { get; init; }

    [JsonPropertyName("running")]
    public long Running { get; init; }

    [JsonPropertyName("retrying")]
    public long Retrying { get; init; }

    /// <summary>Continuations, callbacks and workflow steps waiting for what they run after (no server takes them until then).</summary>
    [JsonPropertyName("waiting")]
    public long Waiting { get; init; }

    [JsonPropertyName("success")]
    public long Success { get; init; }

    [JsonPropertyName("partial_success")]
    public long PartialSuccess { get; init; }

    [JsonPropertyName("failed")]
    public long Failed { get; init; }

    [JsonPropertyName("cancelled")]
    public long Cancelled { get; init; }

    /// <summary>Live servers (by their heartbeat) that take jobs from this queue; 0 means its jobs wait for one.</summary>
    [JsonPropertyName("servers")]
    public int Servers { get; init; }

    /// <summary>How long the oldest queued job has waited, in seconds; 0 when none waits.</summary>
    [JsonPropertyName("latency_seconds")]
    public double LatencySeconds { get; init; }

    /// <summary>The rate and concurrency limits in force on this queue (GET /limits has them all).</summary>
    [JsonPropertyName("limits")]
    public IReadOnlyList<Conveyor.AspNetCore.LimitsApi.Contracts.LimitResponse> Limits { get; init; } = [];
}
