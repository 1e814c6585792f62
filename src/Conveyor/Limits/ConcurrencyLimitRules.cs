using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>The configured concurrency limits as the store applies them.</summary>
internal static class ConcurrencyLimitRules
{
    /// <summary>
    /// The rules of the limits on the queues a server serves, in name order (every server lists them alike); empty
    /// when there is none, so that its dequeues stay the unlimited ones.
    /// </summary>
    public static IReadOnlyList<ConcurrencyLimitRule> For(ConveyorLimitsOptions? options, IEnumerable<string> servedQueues)
    {
        if (options?.Concurrency is not { Count: > 0 } limits)
        {
            return [];
        }

        var served = new HashSet<string>(servedQueues, StringComparer.Ordinal);
        return limits
            .Where(l => l.Value is not null && served.Contains(l.Value.Queue))
            .OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => ToRule(l.Value))
            .ToArray();
    }

    public static ConcurrencyLimitRule ToRule(ConcurrencyLimit limit) => new()
    {
        Queue = limit.Queue,
        JobType = limit.JobType,
        PerTenant = limit.Partition == LimitPartition.Tenant,
        Max = limit.Max,
    };
}
