using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Conveyor.Diagnostics;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>
/// Listens to the "Conveyor" meter of this application (a <see cref="MeterListener"/>, no exporter package) and
/// renders it in the Prometheus text format, with the queue sizes per state read from the store at each scrape.
/// Metric names are those of the contract: <c>job_processed_total{task_type,queue,status}</c>,
/// <c>job_duration_seconds{task_type,queue}</c> and the other instruments of <see cref="ConveyorMetrics"/>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, PrometheusInstrument> _instruments = new(StringComparer.Ordinal);
    private readonly IJobStore _store;
    private readonly TimeProvider _timeProvider;

    public PrometheusExporter(IMeterFactory meterFactory, IJobStore store, TimeProvider timeProvider)
    {
        _store = store;
        _timeProvider = timeProvider;
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

        var stats = await _store.GetQueueStatsAsync(cancellationToken).ConfigureAwait(false);
        WriteQueues(builder, stats, _timeProvider.GetUtcNow());
        return builder.ToString();
    }

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
