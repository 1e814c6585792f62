namespace Conveyor;

/// <summary>
/// At most <see cref="Limit"/> jobs of one queue <b>started</b> per <see cref="Period"/>, across every server of the
/// store: all the queue's jobs, or only those of one <see cref="JobType"/>, counted as one group or once per tenant
/// (<see cref="Partition"/>). Bound from <c>Conveyor:Limits:Rate:{name}</c>, e.g. <c>…:partner-api:Queue = partner</c>,
/// <c>…:Limit = 10</c>, <c>…:Period = 00:00:01</c>.
/// </summary>
/// <remarks>
/// Enforced by the generic cell rate algorithm in the store (one timestamp per limit and partition): a start is allowed
/// every <see cref="Period"/> / <see cref="Limit"/>, and <see cref="Burst"/> at once after a quiet period. A job over
/// the limit is snoozed until its turn (no attempt counted, the reason on the job). Code that is not a job takes
/// permits from the same limiter through <see cref="IConveyorRateLimiters"/>.
/// </remarks>
public sealed class RateLimit
{
    /// <summary>The queue whose jobs the limit counts. Required: a limit belongs to one queue.</summary>
    public string Queue { get; set; } = "";

    /// <summary>Only the jobs of this type in the queue; null (default) for all of them.</summary>
    public string? JobType { get; set; }

    /// <summary>One count for all the jobs the limit matches (default), or one per tenant.</summary>
    public LimitPartition Partition { get; set; }

    /// <summary>Starts per <see cref="Period"/>, per partition. 1 – 1,000,000.</summary>
    public int Limit { get; set; }

    /// <summary>The period <see cref="Limit"/> counts over. 1 ms – 1 day.</summary>
    public TimeSpan Period { get; set; }

    /// <summary>
    /// Starts allowed at once after a quiet period, 1 – <see cref="Limit"/>. Default 1: starts are spread evenly, one
    /// every <see cref="Period"/> / <see cref="Limit"/>, and no window of one period ever holds more than
    /// <see cref="Limit"/>. A burst of B lets a quiet limiter start B at once, at the price of up to
    /// <see cref="Limit"/> + B − 1 starts in one period.
    /// </summary>
    public int Burst { get; set; } = 1;

    /// <summary>
    /// When the store's record of this limit was last written through the API (null for a configured limit): a limit
    /// given another definition and then its earlier one again, or deleted and created again, starts from a fresh
    /// limiter rather than from the debt the earlier one left (<see cref="Limits.RateLimitRule.KeyFor"/>).
    /// </summary>
    internal DateTimeOffset? DefinedAt { get; init; }

    /// <summary>The largest <see cref="Limit"/> accepted.</summary>
    public const int MaxLimit = 1_000_000;
}
