namespace Conveyor.Storage;

/// <summary>Counts of one queue's jobs by state, across tenants, for operators.</summary>
public sealed record QueueStats
{
    public required string Queue { get; init; }

    public bool Paused { get; init; }

    public long Scheduled { get; init; }

    public long Pending { get; init; }

    public long Active { get; init; }

    public long Retrying { get; init; }

    public long Succeeded { get; init; }

    public long Partial { get; init; }

    public long Failed { get; init; }

    public long Cancelled { get; init; }

    /// <summary>Jobs waiting for other jobs (continuations, batch callbacks): not ready, so not in <see cref="Pending"/>.</summary>
    public long Waiting { get; init; }

    /// <summary>When the oldest pending job became pending (its wait is the queue's latency); null when none waits.</summary>
    public DateTimeOffset? OldestPendingSince { get; init; }
}
