using System.Globalization;
using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>A configured rate limit as the server applies it to the jobs it leases.</summary>
internal sealed record RateLimitRule(string Name, string Queue, string? JobType, bool PerTenant, TimeSpan Interval, int Burst, DateTimeOffset? DefinedAt = null)
{
    public bool Matches(LeasedJob job) =>
        string.Equals(job.Queue, Queue, StringComparison.Ordinal) && (JobType is null || string.Equals(job.Type, JobType, StringComparison.Ordinal));

    /// <summary>
    /// The store key of the limiter: the limit's name and interval, when its store record was written, and the tenant's
    /// when it counts per tenant. With the interval in it, a limit given another rate starts from a fresh limiter: the
    /// state of the old one is a theoretical arrival time counted in the old rate's intervals, so a limit of one an hour
    /// raised to a thousand a second kept refusing every start for the hour its last permit had cost. With the time of
    /// its record, so does a limit given its earlier rate back, or deleted and created again: keyed by name and interval
    /// alone, it took up the debt its earlier definition left (a limit of 1 per 120 s refused the next job for 2 min).
    /// </summary>
    public string KeyFor(string tenant) => RateLimitRules.Key(Name, Interval, DefinedAt, PerTenant ? tenant : null);

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
        new(name, limit.Queue, limit.JobType, limit.Partition == LimitPartition.Tenant, Interval(limit.Limit, limit.Period), Math.Clamp(limit.Burst, 1, Math.Max(limit.Limit, 1)), limit.DefinedAt);

    /// <summary>One permit every <paramref name="period"/> / <paramref name="limit"/>, rounded up to the microsecond.</summary>
    public static TimeSpan Interval(int limit, TimeSpan period)
    {
        var micros = (long)Math.Ceiling(period.Ticks / (double)TimeSpan.TicksPerMicrosecond / Math.Max(limit, 1));
        return TimeSpan.FromMicroseconds(Math.Max(micros, 1));
    }

    /// <summary>
    /// <c>rate:{name}/{interval in microseconds}</c>, then <c>@{microseconds since 1970 of its record's write}</c> when
    /// the limit was read from the store, then <c>:{partition}</c> when the limit counts per tenant.
    /// </summary>
    public static string Key(string name, TimeSpan interval, DateTimeOffset? definedAt, string? partition)
    {
        var micros = (long)interval.TotalMicroseconds;
        var definition = definedAt is { } at
            ? string.Create(CultureInfo.InvariantCulture, $"{micros}@{(at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond}")
            : micros.ToString(CultureInfo.InvariantCulture);
        return partition is null
            ? string.Create(CultureInfo.InvariantCulture, $"rate:{name}/{definition}")
            : string.Create(CultureInfo.InvariantCulture, $"rate:{name}/{definition}:{partition}");
    }

    /// <summary>The limit name of a limiter key made by <see cref="Key"/> (a limit name has neither '/' nor ':').</summary>
    public static ReadOnlySpan<char> NameOf(ReadOnlySpan<char> key)
    {
        var name = key["rate:".Length..];
        var end = name.IndexOfAny('/', ':');
        return end < 0 ? name : name[..end];
    }
}
