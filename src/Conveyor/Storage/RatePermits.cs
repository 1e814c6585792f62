namespace Conveyor.Storage;

/// <summary>The checks and arithmetic every store shares for <see cref="IJobCoordinationStore.TryAcquireRatePermitsAsync"/>.</summary>
public static class RatePermits
{
    /// <summary>The longest key accepted.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Throws <see cref="ArgumentException"/> for a request the contract refuses.</summary>
    public static void Validate(IReadOnlyList<RatePermitRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        foreach (var request in requests)
        {
            if (string.IsNullOrEmpty(request.Key) || request.Key.Length > MaxKeyLength)
            {
                throw new ArgumentException($"A rate limiter key must be 1 to {MaxKeyLength} characters.", nameof(requests));
            }

            if (request.Interval < TimeSpan.FromMicroseconds(1))
            {
                throw new ArgumentOutOfRangeException(nameof(requests), request.Interval, "A rate limiter's interval must be at least 1 µs.");
            }

            if (request.Burst < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(requests), request.Burst, "A rate limiter's burst must be at least 1.");
            }

            if (request.Permits < 1 || request.Permits > request.Burst)
            {
                throw new ArgumentOutOfRangeException(nameof(requests), request.Permits, $"Permits must be from 1 to the burst ({request.Burst}): more could never be granted at once.");
            }
        }
    }

    /// <summary>The interval in whole microseconds, rounded up (a rate is never exceeded by the rounding).</summary>
    public static long IntervalMicroseconds(RatePermitRequest request) => (request.Interval.Ticks + (TimeSpan.TicksPerMicrosecond - 1)) / TimeSpan.TicksPerMicrosecond;
}
