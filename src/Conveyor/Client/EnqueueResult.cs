namespace Conveyor;

/// <summary>What an enqueue did. A duplicate is an expected outcome, so it is a value, not an exception.</summary>
public enum EnqueueOutcome
{
    /// <summary>The job was stored.</summary>
    Enqueued = 0,

    /// <summary>Refused: an unfinished job of the tenant holds the same unique key and its time to live has not passed.</summary>
    DuplicateUniqueKey = 1,

    /// <summary>Refused: a job with the same explicit id already exists.</summary>
    DuplicateId = 2,

    /// <summary>
    /// Refused: a job or batch the new job was to wait for (<see cref="JobOptions.After"/>) does not exist in its tenant
    /// (never created, or already deleted), or the batch it was to join (<see cref="Storage.NewJob.BatchId"/>) does not,
    /// or no longer runs (finished or cancelled); <see cref="EnqueueResult.JobId"/> names it.
    /// </summary>
    DependencyNotFound = 3,
}

/// <summary>The result of enqueueing one job.</summary>
/// <param name="Outcome">Whether the job was stored or refused as a duplicate.</param>
/// <param name="JobId">The new job's id or, for a duplicate, the id of the job that holds the key or id; for a missing dependency, its id.</param>
/// <param name="State">The state of that job; for a missing dependency, <see cref="JobState.Waiting"/>, the state the refused job would have had.</param>
/// <param name="Queue">The queue of that job; for a missing dependency, the refused job's.</param>
/// <param name="CreatedAt">When that job was created; for a missing dependency, when the job was refused.</param>
public sealed record EnqueueResult(EnqueueOutcome Outcome, string JobId, JobState State, string Queue, DateTimeOffset CreatedAt)
{
    /// <summary>
    /// True when the job was refused: it duplicates another, or (<see cref="EnqueueOutcome.DependencyNotFound"/>) a job it
    /// was to wait for does not exist. Nothing was stored.
    /// </summary>
    public bool IsDuplicate => Outcome != EnqueueOutcome.Enqueued;
}
