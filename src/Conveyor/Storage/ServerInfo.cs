namespace Conveyor.Storage;

/// <summary>A worker server as it announces itself with its heartbeat.</summary>
public sealed record ServerInfo
{
    /// <summary>The server's id, unique per process.</summary>
    public required string Id { get; init; }

    /// <summary>The machine's name.</summary>
    public required string Host { get; init; }

    /// <summary>The operating system's process id.</summary>
    public required int ProcessId { get; init; }

    /// <summary>The queues it serves and their weights.</summary>
    public required IReadOnlyDictionary<string, int> Queues { get; init; }

    /// <summary>How many jobs it runs at once at most.</summary>
    public required int Concurrency { get; init; }

    /// <summary>How many jobs it ran at its last heartbeat.</summary>
    public required int ActiveJobs { get; init; }

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it last reported; a server silent for long is gone.</summary>
    public required DateTimeOffset LastHeartbeatAt { get; init; }

    /// <summary>The server is listed until then unless it beats again.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}
