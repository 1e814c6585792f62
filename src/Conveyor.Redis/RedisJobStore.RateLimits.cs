using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One round trip: acquire_rate_permits.lua once for the whole list, on the coordination slot, where one sorted set
    /// holds every limiter's theoretical arrival time (its score), so the janitor's purge drops the passed ones by score.
    /// </remarks>
    public async ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken)
    {
        RatePermits.Validate(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        var arguments = new RedisValue[1 + (4 * requests.Count)];
        arguments[0] = RedisTime.Format(NowMicros());
        for (var i = 0; i < requests.Count; i++)
        {
            arguments[1 + (4 * i)] = requests[i].Key;
            arguments[2 + (4 * i)] = RatePermits.IntervalMicroseconds(requests[i]);
            arguments[3 + (4 * i)] = requests[i].Burst;
            arguments[4 + (4 * i)] = requests[i].Permits;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var values = (RedisValue[])(await EvaluateAsync(db, RedisScript.AcquireRatePermits, [_keys.RateLimiters], arguments).ConfigureAwait(false))!;
            var results = new RatePermitResult[requests.Count];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = (long)values[2 * i] == 1
                    ? RatePermitResult.Granted
                    : new RatePermitResult(false, TimeSpan.FromMicroseconds((long)values[(2 * i) + 1]));
            }

            return results;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
