namespace Conveyor.Storage;

/// <summary>What <see cref="IJobCoordinationStore.TryBeginIdempotencyKeyAsync"/> found for a key.</summary>
public enum IdempotencyBeginOutcome
{
    /// <summary>
    /// The key is now <c>processing</c>, owned by the caller's attempt: there was no record, the record had expired, or
    /// it was owned by an earlier lease of the same job (the store leases a job again only after its earlier lease
    /// ended, so that attempt is not running any more).
    /// </summary>
    Started = 0,

    /// <summary>The key is <c>done</c>: an attempt finished the work and the record's time to live has not passed.</summary>
    AlreadyDone = 1,

    /// <summary>The key is <c>processing</c>, owned by another job's attempt whose record has not expired.</summary>
    InProgress = 2,
}
