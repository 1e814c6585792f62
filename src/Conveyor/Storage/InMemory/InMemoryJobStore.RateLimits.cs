namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    // Rate limiter key -> its theoretical arrival time (TryAcquireRatePermitsAsync); one that has passed holds nothing.
    private readonly Dictionary<string, DateTimeOffset> _rateLimiters = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken)
    {
        RatePermits.Validate(requests);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new RatePermitResult[requests.Count];
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            for (var i = 0; i < requests.Count; i++)
            {
                var request = requests[i];
                var interval = TimeSpan.FromMicroseconds(RatePermits.IntervalMicroseconds(request));
                var tat = _rateLimiters.TryGetValue(request.Key, out var stored) && stored > now ? stored : now;
                var next = tat + (interval * request.Permits);
                var allowedAt = next - (interval * request.Burst);
                if (allowedAt <= now)
                {
                    _rateLimiters[request.Key] = next;
                    results[i] = RatePermitResult.Granted;
                }
                else
                {
                    results[i] = new RatePermitResult(false, allowedAt - now);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<RatePermitResult>>(results);
    }

    /// <summary>Drops the rate limiters whose theoretical arrival time has passed. Called under the lock.</summary>
    private void PurgeRateLimiters(DateTimeOffset now)
    {
        foreach (var (key, tat) in _rateLimiters)
        {
            if (tat <= now)
            {
                _rateLimiters.Remove(key);
            }
        }
    }
}
