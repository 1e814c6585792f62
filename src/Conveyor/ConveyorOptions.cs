using Conveyor.Configuration;

namespace Conveyor;

/// <summary>
/// Settings of the Conveyor client and defaults for jobs, bound from the <c>Conveyor</c> configuration section.
/// Data only: services such as <see cref="TimeProvider"/> come from dependency injection.
/// </summary>
public sealed class ConveyorOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Conveyor";

    /// <summary>The default of <see cref="DefaultMaxRetry"/>.</summary>
    public const int DefaultMaxRetryValue = 25;

    /// <summary>Retries after the first attempt for jobs enqueued without <see cref="JobOptions.MaxRetry"/>. 0–1000, default 25.</summary>
    [SettingRange(0, 1000, ErrorMessage = "Conveyor:DefaultMaxRetry must be between {1} and {2}.")]
    public int DefaultMaxRetry { get; set; } = DefaultMaxRetryValue;

    /// <summary>How long finished jobs are kept, by outcome, when the job does not say (<c>Conveyor:Retention:Succeeded</c> …).</summary>
#pragma warning disable SYSLIB1212 // Retention and Metrics are checked by their own validators (ConveyorRetentionOptionsValidator, ConveyorMetricsOptionsValidator).
    public ConveyorRetentionOptions Retention { get; set; } = new();

    /// <summary>The store-derived gauges of the "Conveyor" meter: whether this process publishes them, how often it reads the store (<c>Conveyor:Metrics</c>).</summary>
    public ConveyorMetricsOptions Metrics { get; set; } = new();
#pragma warning restore SYSLIB1212

    /// <summary>Largest payload accepted at enqueue, in bytes. 1 B – 64 MiB, default 1 MiB.</summary>
    [SettingRange(1, 64 * 1024 * 1024, ErrorMessage = "Conveyor:MaxPayloadBytes must be between {1} and {2}.")]
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>Event fan-out (<c>Conveyor:Events:NoSubscribers</c> …).</summary>
    public ConveyorEventsOptions Events { get; set; } = new();

    /// <summary>Flow control: concurrency and rate limits per queue, job type or tenant (<c>Conveyor:Limits:Concurrency:{name}</c>, <c>Conveyor:Limits:Rate:{name}</c> …).</summary>
    public ConveyorLimitsOptions Limits { get; set; } = new();
}
