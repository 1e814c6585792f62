namespace Conveyor;

/// <summary>
/// The default: <c>min(BaseDelay × 2^(attempt−1), MaxDelay)</c>, with "equal jitter" (half fixed, half random) so
/// that jobs that failed together (a database outage) do not all come back at the same instant.
/// With the defaults (2 s, 1 h) the first retries come after ~2, 4, 8, 16 s and 25 retries span about a day.
/// </summary>
public sealed class ExponentialBackoffRetryPolicy : IRetryPolicy
{
    /// <summary>The default of <see cref="BaseDelay"/>: 2 seconds.</summary>
    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromSeconds(2);
    /// <summary>The default of <see cref="MaxDelay"/>: 1 hour.</summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromHours(1);

    /// <summary>The default policy: 2 seconds doubling up to 1 hour, with jitter.</summary>
    public ExponentialBackoffRetryPolicy()
        : this(DefaultBaseDelay, DefaultMaxDelay)
    {
    }

    /// <summary>A policy starting at <paramref name="baseDelay"/> and doubling up to <paramref name="maxDelay"/>, with jitter.</summary>
    public ExponentialBackoffRetryPolicy(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
    }

    /// <summary>The delay before the first retry.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>The longest delay between two attempts.</summary>
    public TimeSpan MaxDelay { get; }

    /// <inheritdoc />
    public TimeSpan GetDelay(RetryDelayArguments arguments)
    {
        var exponent = Math.Clamp(arguments.Attempt - 1, 0, 30);
        var delay = Math.Min(BaseDelay.TotalMilliseconds * Math.Pow(2, exponent), MaxDelay.TotalMilliseconds);
        var half = delay / 2;
        return TimeSpan.FromMilliseconds(half + (Random.Shared.NextDouble() * half));
    }
}
