namespace Conveyor;

/// <summary>
/// At most <see cref="Max"/> jobs of one queue running at once, across every server of the store: all the queue's
/// jobs, or only those of one <see cref="JobType"/>, counted as one group or once per tenant
/// (<see cref="Partition"/>). Bound from <c>Conveyor:Limits:Concurrency:{name}</c>, e.g.
/// <c>Conveyor:Limits:Concurrency:imports:Queue = imports</c>, <c>…:JobType = import</c>, <c>…:Partition = Tenant</c>,
/// <c>…:Max = 1</c>: one import per customer at a time.
/// </summary>
/// <remarks>
/// The slot is the running job itself: a dequeue takes a job only if the jobs the limit counts that are running are
/// fewer than <see cref="Max"/>, in the same store step that leases it, and the slot is free again as soon as the job
/// is no longer running (acknowledged, recovered after its worker died, cancelled, deleted). A job held back stays
/// pending in its place, counts no attempt, and runs as soon as a slot is free.
/// </remarks>
public sealed class ConcurrencyLimit
{
    /// <summary>The queue whose jobs the limit counts. Required: a limit belongs to one queue.</summary>
    public string Queue { get; set; } = "";

    /// <summary>Only the jobs of this type in the queue; null (default) for all of them.</summary>
    public string? JobType { get; set; }

    /// <summary>One count for all the jobs the limit matches (default), or one per tenant.</summary>
    public LimitPartition Partition { get; set; }

    /// <summary>Jobs running at once, per partition. 1 – 100,000.</summary>
    public int Max { get; set; }

    /// <summary>The largest <see cref="Max"/> accepted.</summary>
    public const int MaxValue = 100_000;
}
