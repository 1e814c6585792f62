using System.Globalization;
using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>A configured rate limit as the server applies it to the jobs it leases.</summary>
internal sealed record RateLimitRule(string Name, string Queue, string? JobType, bool PerTenant, TimeSpan Interval, int Burst)
{
    public bool Matches(LeasedJob job) =>
        string.Equals(job.Queue, Queue, StringComparison.Ordinal) && (JobType is null || string.Equals(job.Type, JobType, StringComparison.Ordinal));

    /// <summary>
    /// The store key of the limiter: the limit's name and interval, and the tenant's when it counts per tenant. With the
    /// interval in it, a limit given another rate starts from a fresh limiter: the state of the old one is a theoretical
    /// arrival time counted in the old rate's intervals, so a limit of one an hour raised to a thousand a second kept
    /// refusing every start for the hour its last permit had cost.
    /// </summary>
    public string KeyFor(string tenant) => RateLimitRules.Key(Name, Interval, PerTenant ? tenant : null);

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

    /// <summary><c>rate:{name}/{interval in microseconds}</c>, then <c>:{partition}</c> when the limit counts per tenant.</summary>
    public static string Key(string name, TimeSpan interval, string? partition)
    {
        var micros = (long)interval.TotalMicroseconds;
        return partition is null
            ? string.Create(CultureInfo.InvariantCulture, $"rate:{name}/{micros}")
            : string.Create(CultureInfo.InvariantCulture, $"rate:{name}/{micros}:{partition}");
    }

    /// <summary>The limit name of a limiter key made by <see cref="Key"/> (a limit name has neither '/' nor ':').</summary>
    public static ReadOnlySpan<char> NameOf(ReadOnlySpan<char> key)
    {
        var name = key["rate:".Length..];
        var end = name.IndexOfAny('/', ':');
        return end < 0 ? name : name[..end];
    }
}
