namespace Conveyor.Storage;

/// <summary>A job to store, with every default already applied by the client.</summary>
public sealed record NewJob
{
    /// <summary>The job's id.</summary>
    public required string Id { get; init; }

    /// <summary>The job's type name.</summary>
    public required string Type { get; init; }

    /// <summary>The queue to put it in.</summary>
    public required string Queue { get; init; }

    /// <summary>The tenant it belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>The payload's JSON.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>How many retries the job has after its first attempt.</summary>
    public required int MaxRetry { get; init; }

    /// <summary>How long one attempt may run, if limited.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>When the job stops being worth running, if it has a deadline.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>When set and later than the store's now, the job is stored as scheduled; otherwise pending.</summary>
    public DateTimeOffset? ProcessAt { get; init; }

    /// <summary>Unique key, scoped to the tenant.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>Moment until which the unique key holds (required with a key).</summary>
    public DateTimeOffset? UniqueUntil { get; init; }

    /// <summary>How long the job is kept after it succeeds, and after any outcome that has no retention of its own.</summary>
    public required TimeSpan Retention { get; init; }

    /// <summary>How long the job is kept after it fails or partly succeeds; null for <see cref="Retention"/>.</summary>
    public TimeSpan? FailedRetention { get; init; }

    /// <summary>How long the job is kept after it is cancelled; null for <see cref="Retention"/>.</summary>
    public TimeSpan? CancelledRetention { get; init; }

    /// <summary>The W3C trace parent of the enqueue, so the attempts' spans join its trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>
    /// What the job waits for. Empty for a job that runs as soon as it is due. With dependencies the job is stored
    /// waiting (<see cref="JobState.Waiting"/>), unless every dependency has already finished: then it is stored as if
    /// released (pending or scheduled), or cancelled when a success-only dependency did not succeed. A dependency that
    /// does not exist in the job's tenant refuses the job (<see cref="EnqueueOutcome.DependencyNotFound"/>); in a list
    /// stored together, a dependency may be an earlier job of the same list.
    /// </summary>
    public IReadOnlyList<JobDependency> DependsOn { get; init; } = [];

    /// <summary>
    /// The batch the job belongs to (its counts include the job), or null. A job stored with it joins the batch as
    /// <see cref="IWorkflowStore.AddToBatchAsync"/> adds to it: only a running batch of the job's tenant. A batch the
    /// tenant does not have, or one that has finished or was cancelled, refuses the job
    /// (<see cref="EnqueueOutcome.DependencyNotFound"/>, naming the batch) and nothing is stored.
    /// </summary>
    public string? BatchId { get; init; }

    /// <summary>True when the job waits for something or belongs to a batch: the stores' workflow bookkeeping applies.</summary>
    public bool HasFlow => DependsOn.Count > 0 || BatchId is not null;
}
