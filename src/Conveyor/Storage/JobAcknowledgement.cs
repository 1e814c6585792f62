namespace Conveyor.Storage;

/// <summary>
/// The end of one attempt. Applied only if the job is still active under <see cref="LeaseToken"/>:
/// a worker that lost its lease (it expired and the job was recovered) never overwrites what happened since.
/// </summary>
public sealed record JobAcknowledgement
{
    /// <summary>The job's id.</summary>
    public required string JobId { get; init; }

    /// <summary>The lease the acknowledgement comes from; a stale one changes nothing.</summary>
    public required long LeaseToken { get; init; }

    /// <summary>How the attempt ended.</summary>
    public required AckOutcome Outcome { get; init; }

    /// <summary>
    /// The batch the job was leased as a member of (<see cref="LeasedJob.BatchId"/>; the server sets it on a success), or
    /// null. A store may end a batch's members by a path of its own (SQLite counts the members a call ends in their batch
    /// once per batch, not once per member); what it stores does not depend on this.
    /// </summary>
    public string? BatchId { get; init; }

    /// <summary>For <see cref="AckOutcome.Retry"/>: when the job is due again.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>
    /// For <see cref="AckOutcome.Released"/>: true when the job's handler ran before the hand-back (interrupted at
    /// shutdown, or its wait for a signal ended while it was held), so its wait in the queue starts again now; false for
    /// a job handed back before it started (a rate limit's paced turn, a job fetched ahead, no free slot), which keeps
    /// the wait it had: the time it was held was queue wait too.
    /// </summary>
    public bool AttemptRan { get; init; }

    /// <summary>For <see cref="AckOutcome.Snoozed"/>: when the job is due again.</summary>
    public DateTimeOffset? SnoozeUntil { get; init; }

    /// <summary>For <see cref="AckOutcome.Snoozed"/>: why the job waits, in words an operator can act on; shown on the job.</summary>
    public string? SnoozeReason { get; init; }

    /// <summary>The attempt's error, for retry, failed and cancelled.</summary>
    public JobError? Error { get; init; }

    /// <summary>Item errors the handler recorded, appended to the job's errors.</summary>
    public IReadOnlyList<JobError> ItemErrors { get; init; } = [];

    /// <summary>The handler's result, stored on success or partial success.</summary>
    public ReadOnlyMemory<byte>? Result { get; init; }

    /// <summary>Where the handler put a result too large to store on the job, if it did.</summary>
    public string? ResultUrl { get; init; }

    /// <summary>
    /// The idempotency record this attempt holds (owned by <see cref="JobId"/> and <see cref="LeaseToken"/>), or null.
    /// The store settles it in the same call as the acknowledgement, whether or not the acknowledgement itself applies:
    /// as <see cref="IJobCoordinationStore.CompleteIdempotencyKeyAsync"/> (kept for <see cref="IdempotencyKeepDoneFor"/>)
    /// when the outcome is <see cref="AckOutcome.Succeeded"/> or <see cref="AckOutcome.Partial"/>, as
    /// <see cref="IJobCoordinationStore.ReleaseIdempotencyKeyAsync"/> otherwise. This is what keeps the cost of an
    /// idempotent handler to one extra round trip (its begin): the end rides on the batched acknowledgement.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>For a completed <see cref="IdempotencyKey"/>: how long the <c>done</c> record is kept.</summary>
    public TimeSpan IdempotencyKeepDoneFor { get; init; }

    /// <summary>True when <see cref="IdempotencyKey"/> is to be completed rather than released.</summary>
    public bool CompletesIdempotencyKey => Outcome is AckOutcome.Succeeded or AckOutcome.Partial;
}
