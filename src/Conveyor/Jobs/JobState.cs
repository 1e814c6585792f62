namespace Conveyor;

/// <summary>
/// Where a job is in its life. Every transition between states is one atomic step in the store,
/// so a job is never in two states and never in none.
/// </summary>
public enum JobState
{
    /// <summary>Waits for its process-at time.</summary>
    Scheduled = 0,

    /// <summary>Ready, waiting for a worker.</summary>
    Pending = 1,

    /// <summary>Leased by a worker that is running it.</summary>
    Active = 2,

    /// <summary>Failed an attempt and waits for its backoff before it runs again.</summary>
    Retrying = 3,

    /// <summary>Done.</summary>
    Succeeded = 4,

    /// <summary>Done, with some item errors recorded by the handler.</summary>
    Partial = 5,

    /// <summary>Retries exhausted, a skip-retry error, or its deadline passed (the dead set).</summary>
    Failed = 6,

    /// <summary>Cancelled before or while running.</summary>
    Cancelled = 7,

    /// <summary>
    /// Waits for other jobs (a continuation, a batch callback): no fetch sees it, and the transition that finishes its
    /// last dependency makes it pending (or scheduled) in the same atomic step.
    /// </summary>
    Waiting = 8,
}
