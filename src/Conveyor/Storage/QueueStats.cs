namespace Conveyor.Storage;

/// <summary>Counts of one queue's jobs by state, across tenants, for operators.</summary>
public sealed record QueueStats
{
    /// <summary>The queue's name.</summary>
    public required string Queue { get; init; }

    /// <summary>True while the queue is paused: no server takes its jobs.</summary>
    public bool Paused { get; init; }

    /// <summary>Jobs waiting for their time (scheduled or snoozed).</summary>
    public long Scheduled { get; init; }

    /// <summary>Jobs ready to run.</summary>
    public long Pending { get; init; }

    /// <summary>Jobs running now.</summary>
    public long Active { get; init; }

    /// <summary>Jobs waiting for their next attempt.</summary>
    public long Retrying { get; init; }

    /// <summary>Jobs that succeeded (until retention deletes them).</summary>
    public long Succeeded { get; init; }

    /// <summary>Jobs that succeeded with some items failed.</summary>
    public long Partial { get; init; }

    /// <summary>Jobs that failed for good.</summary>
    public long Failed { get; init; }

    /// <summary>Jobs that were cancelled.</summary>
    public long Cancelled { get; init; }

    /// <summary>Jobs waiting for other jobs (continuations, batch callbacks): not ready, so not in <see cref="Pending"/>.</summary>
    public long Waiting { get; init; }

    /// <summary>
    /// When the next pending job to be taken became pending, or went back to pending after a lease (released or
    /// recovered): its wait is the queue's latency. Null when none waits.
    /// </summary>
    public DateTimeOffset? OldestPendingSince { get; init; }
}
