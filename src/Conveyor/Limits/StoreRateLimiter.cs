using System.Threading.RateLimiting;
using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// A <see cref="RateLimiter"/> kept in the Conveyor store, shared by every process that uses the store: one permit
/// every interval, a burst after a quiet period (the generic cell rate algorithm of
/// <see cref="IJobCoordinationStore.TryAcquireRatePermitsAsync"/>). Get one from <see cref="IConveyorRateLimiters"/>.
/// </summary>
/// <remarks>
/// Every acquisition is one store round trip, so only <see cref="RateLimiter.AcquireAsync"/> is supported
/// (<see cref="RateLimiter.AttemptAcquire"/> throws <see cref="NotSupportedException"/>). A refused lease carries
/// <see cref="MetadataName.RetryAfter"/>; with a <c>maxWait</c>, a refusal whose turn comes within it waits for the
/// turn (on the <see cref="TimeProvider"/>) and asks again. Acquiring 0 permits succeeds at once.
/// </remarks>
public sealed class StoreRateLimiter : RateLimiter
{
    private readonly IJobStore _store;
    private readonly RatePermitRequest _request;
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _timeProvider;
    private long _successful;
    private long _failed;

    internal StoreRateLimiter(IJobStore store, string key, TimeSpan interval, int burst, TimeSpan maxWait, TimeProvider timeProvider)
    {
        _store = store;
        _request = new RatePermitRequest(key, interval, burst);
        RatePermits.Validate([_request]);
        _maxWait = maxWait;
        _timeProvider = timeProvider;
    }

    /// <summary>The limiter's key in the store.</summary>
    public string Key => _request.Key;

    /// <inheritdoc />
    public override TimeSpan? IdleDuration => null;

    /// <inheritdoc />
    public override RateLimiterStatistics? GetStatistics() => new()
    {
        CurrentAvailablePermits = 0,
        CurrentQueuedCount = 0,
        TotalSuccessfulLeases = Interlocked.Read(ref _successful),
        TotalFailedLeases = Interlocked.Read(ref _failed),
    };

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        throw new NotSupportedException("A rate limiter kept in the store answers only after a round trip to it: use AcquireAsync.");

    /// <inheritdoc />
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _request.Burst);
        if (permitCount == 0)
        {
            return Lease.Granted;
        }

        var waitUntil = _timeProvider.GetUtcNow() + _maxWait;
        while (true)
        {
            var result = (await _store.TryAcquireRatePermitsAsync([_request with { Permits = permitCount }], cancellationToken).ConfigureAwait(false))[0];
            if (result.Acquired)
            {
                Interlocked.Increment(ref _successful);
                return Lease.Granted;
            }

            if (_timeProvider.GetUtcNow() + result.RetryAfter > waitUntil)
            {
                Interlocked.Increment(ref _failed);
                return new Lease(false, result.RetryAfter);
            }

            await Task.Delay(result.RetryAfter, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static Lease Granted { get; } = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = wait;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
