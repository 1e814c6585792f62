namespace Conveyor.Storage;

/// <summary>
/// A rate or concurrency limit as the store keeps it: what it applies to (a queue, optionally one job type, counted once
/// or per tenant), its numbers, where it came from and when it last changed.
/// </summary>
public sealed record LimitRecord
{
    /// <summary>Whether the limit counts starts per period or jobs running at once.</summary>
    public required LimitKind Kind { get; init; }

    /// <summary>The limit's name, unique within its kind.</summary>
    public required string Name { get; init; }

    /// <summary>The queue the limit applies to.</summary>
    public required string Queue { get; init; }

    /// <summary>Only the jobs of this type in the queue; null for all of them.</summary>
    public string? JobType { get; init; }

    /// <summary>One count per tenant rather than one for every job the limit matches.</summary>
    public bool PerTenant { get; init; }

    /// <summary>Concurrency: the jobs running at once. Rate: the starts per <see cref="Period"/>.</summary>
    public required int Limit { get; init; }

    /// <summary>Rate: the period <see cref="Limit"/> counts over, in whole microseconds. Zero for a concurrency limit.</summary>
    public TimeSpan Period { get; init; }

    /// <summary>Rate: the starts allowed at once after a quiet period. Zero for a concurrency limit.</summary>
    public int Burst { get; init; }

    /// <summary>Where the limit comes from: code and configuration, or the HTTP API.</summary>
    public LimitSource Source { get; init; }

    /// <summary>Set by the store at every write.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The kind of a <see cref="LimitRecord"/>.</summary>
public enum LimitKind
{
    /// <summary>At most N jobs running at once.</summary>
    Concurrency = 0,

    /// <summary>At most N jobs started per period.</summary>
    Rate = 1,
}

/// <summary>Who wrote a <see cref="LimitRecord"/>.</summary>
public enum LimitSource
{
    /// <summary>A server, from its code and configuration (<c>Conveyor:Limits</c>).</summary>
    Configuration = 0,

    /// <summary>The HTTP API at run time: overrides the configured limit of the same kind and name until deleted.</summary>
    Api = 1,
}

/// <summary>What <see cref="ILimitStore.PutLimitAsync"/> did.</summary>
public enum LimitWriteResult
{
    /// <summary>There was no limit of that kind and name: it was created.</summary>
    Created = 0,

    /// <summary>The limit was replaced.</summary>
    Replaced = 1,

    /// <summary>A configured limit met a limit set through the API: nothing was written.</summary>
    KeptApiLimit = 2,
}
