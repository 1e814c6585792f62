namespace Conveyor.AspNetCore;

/// <summary>
/// Settings of Conveyor's health checks (<c>services.AddHealthChecks().AddConveyor(...)</c>), bound from
/// <c>Conveyor:Health</c>.
/// </summary>
public sealed class ConveyorHealthOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Conveyor:Health";

    /// <summary>The tag of the checks <c>/healthz</c> (liveness) runs.</summary>
    public const string LiveTag = "live";

    /// <summary>The tag of the checks <c>/readyz</c> (readiness) runs: Conveyor's three and any of yours with this tag.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// How long one Conveyor check may wait for the store before it reports the store as not answering. Default 5 s,
    /// from 100 ms to 1 min.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a <c>/healthz</c> or <c>/readyz</c> request waits for all its checks, yours included, before it
    /// answers 503 naming the checks that did not finish. Default 10 s, from 100 ms to 5 min.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Queue latency above which readiness reports Degraded (still 200): how long the next job of a queue has been
    /// pending. Null (default) checks no queue unless <see cref="QueueLatencyThresholds"/> names it. Paused queues are
    /// not checked.
    /// </summary>
    public TimeSpan? QueueLatencyThreshold { get; set; }

    /// <summary>Per-queue thresholds that replace <see cref="QueueLatencyThreshold"/> for the queues they name.</summary>
    public Dictionary<string, TimeSpan> QueueLatencyThresholds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The threshold of <paramref name="queue"/>, or null when it is not checked.</summary>
    internal TimeSpan? ThresholdOf(string queue) =>
        QueueLatencyThresholds.TryGetValue(queue, out var own) ? own : QueueLatencyThreshold;

    internal bool ChecksLatency => QueueLatencyThreshold is not null || QueueLatencyThresholds.Count > 0;
}
