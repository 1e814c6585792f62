using System.Threading.RateLimiting;
using Conveyor.Limits;
using Conveyor.Storage;

namespace Conveyor;

/// <summary>The store's rate limiters by name (<see cref="IConveyorRateLimiters"/>).</summary>
internal sealed class ConveyorRateLimiters(IJobStore store, LimitsInForce limits, TimeProvider timeProvider) : IConveyorRateLimiters
{
    public RateLimiter Get(string name, string? tenant = null, TimeSpan maxWait = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (limits.Current.Rate.GetValueOrDefault(name) is not { } limit)
        {
            throw new ArgumentException($"No rate limit named '{name}' is in force (Conveyor:Limits:Rate, or set through the HTTP API).", nameof(name));
        }

        var rule = RateLimitRules.ToRule(name, limit);
        if (rule.PerTenant && string.IsNullOrEmpty(tenant))
        {
            throw new ArgumentException($"The rate limit '{name}' counts per tenant: give the tenant.", nameof(tenant));
        }

        return new StoreRateLimiter(store, rule.KeyFor(tenant ?? ""), rule.Interval, rule.Burst, maxWait, timeProvider);
    }

    public RateLimiter Create(string key, int limit, TimeSpan period, int burst = 1, TimeSpan maxWait = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(burst, limit);
        return new StoreRateLimiter(store, "app:" + key, RateLimitRules.Interval(limit, period), burst, maxWait, timeProvider);
    }
}
