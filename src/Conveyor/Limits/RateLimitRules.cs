using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>A configured rate limit as the server applies it to the jobs it leases.</summary>
internal sealed record RateLimitRule(string Name, string Queue, string? JobType, bool PerTenant, TimeSpan Interval, int Burst)
{
    public bool Matches(LeasedJob job) =>
        string.Equals(job.Queue, Queue, StringComparison.Ordinal) && (JobType is null || string.Equals(job.Type, JobType, StringComparison.Ordinal));

    /// <summary>The store key of the limiter: the limit's name, and the tenant's when it counts per tenant.</summary>
    public string KeyFor(string tenant) => RateLimitRules.Key(Name, PerTenant ? tenant : null);

    public RatePermitRequest Request(string tenant) => new(KeyFor(tenant), Interval, Burst);

    /// <summary>Every job of the queue needs this limit's permit (no job type, not per tenant): the queue can be paced as a whole.</summary>
    public bool IsQueueWide => JobType is null && !PerTenant;
}

/// <summary>The configured rate limits as the server and <see cref="IConveyorRateLimiters"/> apply them.</summary>
internal static class RateLimitRules
{
    /// <summary>The rules of the rate limits on the queues a server serves, in name order; empty when there is none.</summary>
    public static IReadOnlyList<RateLimitRule> For(ConveyorLimitsOptions? options, IEnumerable<string> servedQueues)
    {
        if (options?.Rate is not { Count: > 0 } limits)
        {
            return [];
        }

        var served = new HashSet<string>(servedQueues, StringComparer.Ordinal);
        return limits
            .Where(l => l.Value is not null && served.Contains(l.Value.Queue))
            .OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => ToRule(l.Key, l.Value))
            .ToArray();
    }

    public static RateLimitRule ToRule(string name, RateLimit limit) =>
        new(name, limit.Queue, limit.JobType, limit.Partition == LimitPartition.Tenant, Interval(limit.Limit, limit.Period), Math.Clamp(limit.Burst, 1, Math.Max(limit.Limit, 1)));

    /// <summary>One permit every <paramref name="period"/> / <paramref name="limit"/>, rounded up to the microsecond.</summary>
    public static TimeSpan Interval(int limit, TimeSpan period)
    {
        var micros = (long)Math.Ceiling(period.Ticks / (double)TimeSpan.TicksPerMicrosecond / Math.Max(limit, 1));
        return TimeSpan.FromMicroseconds(Math.Max(micros, 1));
    }

    public static string Key(string name, string? partition) => partition is null ? $"rate:{name}" : $"rate:{name}:{partition}";
}
