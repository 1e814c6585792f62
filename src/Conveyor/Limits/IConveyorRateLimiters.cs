using System.Threading.RateLimiting;

namespace Conveyor;

/// <summary>
/// Rate limiters kept in the store, for code that is not a job (throttling calls to a partner's API from a web request
/// as its jobs are throttled): the same limiter as a configured <see cref="RateLimit"/>, or one of your own.
/// Registered by <c>AddConveyor()</c>.
/// </summary>
public interface IConveyorRateLimiters
{
    /// <summary>
    /// The limiter of the rate limit <paramref name="name"/> of <c>Conveyor:Limits:Rate</c>, which its jobs share:
    /// for a limit per tenant, the <paramref name="tenant"/>'s. A lease granted here is a start the limit's jobs do not get.
    /// </summary>
    /// <exception cref="ArgumentException">No rate limit has that name, or the limit is per tenant and no tenant is given.</exception>
    RateLimiter Get(string name, string? tenant = null, TimeSpan maxWait = default);

    /// <summary>A limiter of your own in the store: <paramref name="limit"/> permits per <paramref name="period"/>, <paramref name="burst"/> at once.</summary>
    RateLimiter Create(string key, int limit, TimeSpan period, int burst = 1, TimeSpan maxWait = default);
}
