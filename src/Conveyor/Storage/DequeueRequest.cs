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
    /// <summary>The queues to take from, each with its share of <see cref="Limit"/>.</summary>
    public required IReadOnlyList<QueueQuota> Queues { get; init; }

    /// <summary>The most jobs to lease.</summary>
    public required int Limit { get; init; }

    /// <summary>The server that will hold the leases.</summary>
    public required string ServerId { get; init; }

    /// <summary>How long each lease lasts unless extended.</summary>
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

    /// <summary>
    /// Queues of <see cref="Queues"/> whose jobs are taken in turns between tenants; none by default, and then the dequeue is
    /// exactly as described above.
    /// </summary>
    /// <remarks>
    /// From a fair queue the dequeue takes jobs round by round: in each round, the oldest pending job (in the order jobs
    /// became pending) of every tenant that has one, tenants in ordinal order of their names starting after
    /// <see cref="FairQueue.LastTenant"/> and wrapping around; so a tenant with a million waiting jobs delays another
    /// tenant's job by at most one job per round, and within a tenant jobs still come out in the order they became
    /// pending. The jobs of a fair queue come out of the dequeue in that turn order, so the tenant of the last one is the
    /// next request's <see cref="FairQueue.LastTenant"/>. The store finds the tenants with pending jobs through an index
    /// (or per-tenant lists), never by reading the queue's jobs. A store may look at no more than
    /// <see cref="FairRounds"/> rounds of tenants per pass and queue. <see cref="ConcurrencyLimits"/> apply as to any queue: a job
    /// whose limit is full is passed over, and its tenant's next job is considered.
    /// </remarks>
    public IReadOnlyList<FairQueue> FairQueues { get; init; } = [];

    /// <summary>How many times, at most, a dequeue looks again for tenants of a fair queue in one pass (each time after some ran out of jobs).</summary>
    public const int FairRounds = 8;

    /// <summary>How many pending jobs of one queue a dequeue with <see cref="ConcurrencyLimits"/> looks at, at most, per pass.</summary>
    public const int LimitedScanDepth = 1000;
}
