namespace Conveyor.Storage;

/// <summary>A worker server as it announces itself with its heartbeat.</summary>
public sealed record ServerInfo
{
    public required string Id { get; init; }

    public required string Host { get; init; }

    public required int ProcessId { get; init; }

    public required IReadOnlyDictionary<string, int> Queues { get; init; }

    public required int Concurrency { get; init; }

    public required int ActiveJobs { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset LastHeartbeatAt { get; init; }

    /// <summary>The server is listed until then unless it beats again.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}
