namespace Conveyor;

/// <summary>
/// The default: <c>min(BaseDelay × 2^(attempt−1), MaxDelay)</c>, with "equal jitter" (half fixed, half random) so
/// that jobs that failed together (a database outage) do not all come back at the same instant.
/// With the defaults (2 s, 1 h) the first retries come after ~2, 4, 8, 16 s and 25 retries span about a day.
/// </summary>
public sealed class ExponentialBackoffRetryPolicy : IRetryPolicy
{
    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromHours(1);

    public ExponentialBackoffRetryPolicy()
        : this(DefaultBaseDelay, DefaultMaxDelay)
    {
    }

    public ExponentialBackoffRetryPolicy(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
    }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    public TimeSpan GetDelay(RetryDelayArguments arguments)
    {
        var exponent = Math.Clamp(arguments.Attempt - 1, 0, 30);
        var delay = Math.Min(BaseDelay.TotalMilliseconds * Math.Pow(2, exponent), MaxDelay.TotalMilliseconds);
        var half = delay / 2;
        return TimeSpan.FromMilliseconds(half + (Random.Shared.NextDouble() * half));
    }
}
