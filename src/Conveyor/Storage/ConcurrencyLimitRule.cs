namespace Conveyor.Storage;

/// <summary>
/// A concurrency limit as a dequeue applies it: of the active jobs of <see cref="Queue"/> (only those of
/// <see cref="JobType"/> when it is set; counted per tenant when <see cref="PerTenant"/>), at most <see cref="Max"/>.
/// </summary>
public sealed record ConcurrencyLimitRule
{
    /// <summary>The queue the rule applies to.</summary>
    public required string Queue { get; init; }

    /// <summary>The job type the rule applies to; null for every type of the queue.</summary>
    public string? JobType { get; init; }

    /// <summary>True when each tenant has its own <see cref="Max"/>.</summary>
    public bool PerTenant { get; init; }

    /// <summary>The most jobs the rule lets run at once.</summary>
    public required int Max { get; init; }

    /// <summary>True when the rule counts a job of this type in its queue.</summary>
    public bool Matches(string queue, string type) =>
        string.Equals(queue, Queue, StringComparison.Ordinal) && (JobType is null || string.Equals(type, JobType, StringComparison.Ordinal));
}
