using Conveyor.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Health;

/// <summary>
/// <c>conveyor_queue_latency</c>: Degraded when a queue's next job has been pending longer than its threshold
/// (<see cref="ConveyorHealthOptions.QueueLatencyThreshold"/>, <see cref="ConveyorHealthOptions.QueueLatencyThresholds"/>).
/// Reads the store's queue statistics (the same bounded read as the store gauges); with no threshold set it reads nothing.
/// </summary>
internal sealed class QueueLatencyHealthCheck(IJobStore store, TimeProvider timeProvider, IOptions<ConveyorHealthOptions> options) : IHealthCheck
{
    public const string Name = "conveyor_queue_latency";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        if (!settings.ChecksLatency)
        {
            return HealthCheckResult.Healthy("No queue latency threshold is set.");
        }

        IReadOnlyList<QueueStats> queues;
        using var bound = new CancellationTokenSource(settings.StoreTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, cancellationToken);
        try
        {
            queues = await store.GetQueueStatsAsync(linked.Token).AsTask().WaitAsync(settings.StoreTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JobStoreUnavailableException or TimeoutException || (e is OperationCanceledException && bound.IsCancellationRequested))
        {
            // The store check says why; this one only says it could not look.
            return HealthCheckResult.Degraded($"The queue latency could not be read from the {store.Name} store.");
        }

        var now = timeProvider.GetUtcNow();
        var late = new List<string>();
        var data = new Dictionary<string, object>();
        foreach (var queue in queues)
        {
            if (queue.Paused || queue.OldestPendingSince is not { } since || settings.ThresholdOf(queue.Queue) is not { } threshold)
            {
                continue;
            }

            var latency = now - since;
            data[queue.Queue] = Math.Round(Math.Max(0, latency.TotalSeconds), 3);
            if (latency > threshold)
            {
                late.Add($"{queue.Queue} {latency.TotalSeconds:F1} s > {threshold.TotalSeconds:F1} s");
            }
        }

        return late.Count == 0
            ? HealthCheckResult.Healthy("Every checked queue's latency is under its threshold.", data)
            : HealthCheckResult.Degraded("Queue latency over its threshold: " + string.Join("; ", late) + ".", data: data);
    }
}
