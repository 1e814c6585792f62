using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>One worker server with a current heartbeat: where it runs, what it serves, and how busy it is.</summary>
internal sealed record ServerResponse
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("host")]
    public required string Host { get; init; }

    [JsonPropertyName("pid")]
    public int ProcessId { get; init; }

    /// <summary>The queues it takes jobs from, with their weights.</summary>
    [JsonPropertyName("queues")]
    public required IReadOnlyDictionary<string, int> Queues { get; init; }

    /// <summary>How many jobs it runs at once at most.</summary>
    [JsonPropertyName("concurrency")]
    public int Concurrency { get; init; }

    /// <summary>Jobs it was running at its last heartbeat.</summary>
    [JsonPropertyName("running")]
    public int Running { get; init; }

    [JsonPropertyName("started_at")]
    public required string StartedAt { get; init; }

    [JsonPropertyName("last_heartbeat_at")]
    public required string LastHeartbeatAt { get; init; }
}
