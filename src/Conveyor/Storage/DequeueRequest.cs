namespace Conveyor.Storage;

/// <summary>
/// Lease up to <see cref="Limit"/> pending jobs in one round trip.
/// </summary>
/// <remarks>
/// The store takes jobs in two passes. First pass: for each entry of <see cref="Queues"/>, in order, up to
/// that entry's limit. Second pass, only if fewer than <see cref="Limit"/> were taken: the remaining slots
/// from the same queues in the same order. So the worker's weighted split is honoured exactly under
/// saturation, and a free slot is never left idle while any listed queue has a job (work conserving).
/// Within a queue, jobs come out in the order they became pending (FIFO). Paused queues are skipped.
/// Each job taken becomes active, its attempt count goes up by one, its started-at becomes now,
/// and it carries a new lease token owned by <see cref="ServerId"/> that expires after <see cref="LeaseDuration"/>.
/// </remarks>
public sealed record DequeueRequest
{
    public required IReadOnlyList<QueueQuota> Queues { get; init; }

    public required int Limit { get; init; }

    public required string ServerId { get; init; }

    public required TimeSpan LeaseDuration { get; init; }

    /// <summary>
    /// Concurrency limits on the listed queues; none by default, and then the dequeue is exactly as described above.
    /// </summary>
    /// <remarks>
    /// With limits, a pending job of queue Q and type T is taken only if, for every rule of this list that
    /// <see cref="ConcurrencyLimitRule.Matches">matches</see> it, the active jobs the rule counts (its queue, its job
    /// type if set, the job's tenant if per tenant), with those this dequeue has already taken, are fewer than the rule's
    /// <see cref="ConcurrencyLimitRule.Max"/>; counting and leasing are one atomic step, so no store, however many
    /// servers dequeue at once, ever has more active jobs under a rule than its maximum. A job held back stays pending
    /// in its place with its attempt count unchanged, and the dequeue goes on to the jobs behind it: it looks at no
    /// more than <see cref="LimitedScanDepth"/> pending jobs of a queue per pass.
    /// </remarks>
    public IReadOnlyList<ConcurrencyLimitRule> ConcurrencyLimits { get; init; } = [];

    /// <summary>How many pending jobs of one queue a dequeue with <see cref="ConcurrencyLimits"/> looks at, at most, per pass.</summary>
    public const int LimitedScanDepth = 1000;
}
