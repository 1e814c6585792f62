namespace Conveyor.Storage;

/// <summary>
/// <paramref name="Permits"/> permits of the rate limiter <paramref name="Key"/>, which allows one permit every
/// <paramref name="Interval"/> with bursts of up to <paramref name="Burst"/> (see
/// <see cref="IJobCoordinationStore.TryAcquireRatePermitsAsync"/>).
/// </summary>
public readonly record struct RatePermitRequest(string Key, TimeSpan Interval, int Burst, int Permits = 1);

/// <summary>The store's answer to a <see cref="RatePermitRequest"/>: taken, or refused until <see cref="RetryAfter"/> from now.</summary>
public readonly record struct RatePermitResult(bool Acquired, TimeSpan RetryAfter)
{
    /// <summary>Permits granted with no wait.</summary>
    public static RatePermitResult Granted { get; } = new(true, TimeSpan.Zero);
}
