using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>
/// Listens to the "Conveyor" meter of this application (a <see cref="MeterListener"/>, no exporter package) and
/// renders it in the Prometheus text format, with the queue sizes per state read from the store at each scrape.
/// Metric names are those of the contract: <c>job_processed_total{task_type,queue,status}</c>,
/// <c>job_duration_seconds{task_type,queue}</c> and the other instruments of <see cref="ConveyorMetrics"/>.
/// A scrape never fails because the store does: the in-process series are always written, and the store-derived
/// gauges are left out (with <c>job_store_up 0</c>) when the store does not answer within <see cref="StoreTimeout"/>.
/// </summary>
internal sealed partial class PrometheusExporter : IDisposable
{
    /// <summary>How long a scrape waits for the queue statistics; well under Prometheus's default scrape timeout (10 s).</summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(3);

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, PrometheusInstrument> _instruments = new(StringComparer.Ordinal);
    private readonly IJobStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PrometheusExporter> _logger;

    public PrometheusExporter(IMeterFactory meterFactory, IJobStore store, TimeProvider timeProvider, ILogger<PrometheusExporter> logger)
    {
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
        // Only this application's meter: tests and hosts that run several applications in one process each have their
        // own IMeterFactory, which is the scope of the meters it creates.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ConveyorMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument, _instruments.GetOrAdd(instrument.Name, _ => new PrometheusInstrument(instrument)));
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((PrometheusInstrument)state!).Record(value, tags));
        _listener.Start();
    }

    public async Task<string> RenderAsync(CancellationToken cancellationToken)
    {
        var builder = new StringBuilder(4096);
        foreach (var instrument in _instruments.Values.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            WriteInstrument(builder, instrument);
        }

        var stats = await ReadQueueStatsAsync(cancellationToken).ConfigureAwait(false);
        PrometheusText.Header(builder, "job_store_up", "gauge", "1 when the store answered this scrape's queue statistics; 0 when it did not, and the job_queue_* series are left out.");
        PrometheusText.Line(builder, "job_store_up", "", stats is null ? "0" : "1");
        if (stats is not null)
        {
            WriteQueues(builder, stats, _timeProvider.GetUtcNow());
        }

        return builder.ToString();
    }

    /// <summary>The queue statistics, or null when the store fails or does not answer within <see cref="StoreTimeout"/>.</summary>
    private async Task<IReadOnlyList<QueueStats>?> ReadQueueStatsAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(StoreTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            // WaitAsync too: a store call that ignores its token must not hold the scrape beyond the bound.
            return await _store.GetQueueStatsAsync(linked.Token).AsTask().WaitAsync(StoreTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogStoreUnavailable(_logger, e, _store.Name);
            return null;
        }
    }

    [LoggerMessage(LogLevel.Warning, "/metrics: the {store} store did not give its queue statistics; the job_queue_* series are left out of this scrape.")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception, string store);

    public void Dispose() => _listener.Dispose();

    private static void WriteInstrument(StringBuilder builder, PrometheusInstrument instrument)
    {
        PrometheusText.Header(builder, instrument.Name, instrument.Kind, instrument.Description);
        foreach (var (labels, series) in instrument.Series)
        {
            if (instrument.Kind != "histogram")
            {
                PrometheusText.Line(builder, instrument.Name, labels, PrometheusText.Number(series.Sum));
                continue;
            }

            var prefix = labels.Length == 0 ? "" : labels + ",";
            long cumulative = 0;
            for (var i = 0; i < instrument.Bounds.Length; i++)
            {
                cumulative += series.BucketCount(i);
                PrometheusText.Line(builder, instrument.Name + "_bucket", $"{prefix}le=\"{PrometheusText.Number(instrument.Bounds[i])}\"", cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            cumulative += series.BucketCount(instrument.Bounds.Length);
            PrometheusText.Line(builder, instrument.Name + "_bucket", prefix + "le=\"+Inf\"", cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture));
            PrometheusText.Line(builder, instrument.Name + "_sum", labels, PrometheusText.Number(series.Sum));
            PrometheusText.Line(builder, instrument.Name + "_count", labels, cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static void WriteQueues(StringBuilder builder, IReadOnlyList<QueueStats> stats, DateTimeOffset now)
    {
        PrometheusText.Header(builder, "job_queue_size", "gauge", "Jobs in each queue by state (scheduled, pending, active, retrying, succeeded, partial, failed, cancelled), across tenants.");
        foreach (var queue in stats)
        {
            (JobState State, long Count)[] counts =
            [
                (JobState.Scheduled, queue.Scheduled), (JobState.Pending, queue.Pending), (JobState.Active, queue.Active),
                (JobState.Retrying, queue.Retrying), (JobState.Succeeded, queue.Succeeded), (JobState.Partial, queue.Partial),
                (JobState.Failed, queue.Failed), (JobState.Cancelled, queue.Cancelled),
            ];
            foreach (var (state, count) in counts)
            {
                PrometheusText.Line(builder, "job_queue_size", $"queue=\"{Escape(queue.Queue)}\",state=\"{state.ToStorageName()}\"", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        PrometheusText.Header(builder, "job_queue_latency_seconds", "gauge", "How long the oldest pending job of each queue has waited (0 when none waits).");
        foreach (var queue in stats)
        {
            var latency = queue.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : 0;
            PrometheusText.Line(builder, "job_queue_latency_seconds", $"queue=\"{Escape(queue.Queue)}\"", PrometheusText.Number(latency));
        }

        PrometheusText.Header(builder, "job_queue_paused", "gauge", "1 when the queue is paused.");
        foreach (var queue in stats)
        {
            PrometheusText.Line(builder, "job_queue_paused", $"queue=\"{Escape(queue.Queue)}\"", queue.Paused ? "1" : "0");
        }
    }

    private static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length);
        PrometheusText.AppendEscaped(builder, value);
        return builder.ToString();
    }
}
