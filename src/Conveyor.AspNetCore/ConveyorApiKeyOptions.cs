namespace Conveyor.AspNetCore;

/// <summary>One API key: who presents it (<see cref="Tenant"/>) and what it may do.</summary>
public sealed class ConveyorApiKeyOptions
{
    /// <summary>
    /// The key itself. It is hashed (SHA-256) when the options are read and only the hash is kept for comparisons.
    /// Prefer <see cref="KeyHash"/> so that the key never sits in configuration.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>The SHA-256 of the key as 64 hexadecimal digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string? KeyHash { get; set; }

    /// <summary>The tenant whose jobs the key reads and writes (letters, digits, '_', '-', '.'; at most 64).</summary>
    public string Tenant { get; set; } = "";

    /// <summary>
    /// Whether the key may see queue statistics of every tenant and pause or resume queues, which affect every tenant.
    /// </summary>
    public bool Admin { get; set; }
}
