namespace Conveyor.AspNetCore;

/// <summary>A token bucket per tenant: <see cref="PermitsPerSecond"/> on average, bursts up to <see cref="Burst"/>.</summary>
public sealed class ConveyorApiRateLimitOptions
{
    /// <summary>The default of <see cref="PermitsPerSecond"/>.</summary>
    public const int DefaultPermitsPerSecond = 1000;

    /// <summary>The default of <see cref="Burst"/>.</summary>
    public const int DefaultBurst = 2000;

    /// <summary>False turns the limit off. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests per second each tenant may make on average. 1 – 10,000,000, default 1000.</summary>
    public int PermitsPerSecond { get; set; } = DefaultPermitsPerSecond;

    /// <summary>Requests a tenant may make at once after a quiet spell (the bucket's size). At least 1, default 2000.</summary>
    public int Burst { get; set; } = DefaultBurst;
}
