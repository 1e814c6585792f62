namespace Conveyor;

/// <summary>Flow control, bound from <c>Conveyor:Limits</c> and validated at start.</summary>
public sealed class ConveyorLimitsOptions
{
    /// <summary>The most limits of each kind: every limited dequeue checks each one that names its queue.</summary>
    public const int MaxCount = 100;

    /// <summary>
    /// Concurrency limits by name (1 to 64 letters, digits, '_', '-' or '.'), e.g.
    /// <c>o.Limits.Concurrency["imports"] = new() { Queue = "imports", Partition = LimitPartition.Tenant, Max = 1 }</c>.
    /// None by default: a dequeue then costs exactly what it costs without this feature.
    /// </summary>
    public Dictionary<string, ConcurrencyLimit> Concurrency { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Rate limits by name (as <see cref="Concurrency"/>), e.g.
    /// <c>o.Limits.Rate["partner-api"] = new() { Queue = "partner", Limit = 10, Period = TimeSpan.FromSeconds(1) }</c>.
    /// None by default: the server then asks the store for no permit.
    /// </summary>
    public Dictionary<string, RateLimit> Rate { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Queues whose jobs are taken in turns between tenants, e.g. <c>o.Limits.FairQueues.Add("reports")</c> or
    /// <c>Conveyor:Limits:FairQueues:0 = reports</c>: a tenant with a million waiting jobs then delays another tenant's
    /// job by one job per round, not a million. Within a tenant, jobs keep their order. None by default: every other
    /// queue's dequeue costs exactly what it costs without this feature.
    /// </summary>
    public List<string> FairQueues { get; set; } = [];

    /// <summary>
    /// How often a server reads the limits in force from the store (<c>Conveyor:Limits:RefreshInterval</c>), 1 s – 1 h;
    /// default 5 s. A limit changed through the HTTP API applies on every server within this interval. One store read per
    /// interval and server, never one per job.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = DefaultRefreshInterval;

    /// <summary>The default <see cref="RefreshInterval"/>.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(5);
}
