using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Conveyor.Diagnostics;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>
/// Listens to the "Conveyor" meter of this application (a <see cref="MeterListener"/>, no exporter package) and
/// renders it in the Prometheus text format. Every series comes from the meter, so OpenTelemetry and
/// <c>dotnet-counters</c> see the same ones: the counters and histograms, and on the servers that opt in
/// (<c>Conveyor:Metrics:StoreGauges</c>) the store-derived gauges, which a scrape refreshes when their cache is due and
/// waits for at most <c>Conveyor:Metrics:StoreTimeout</c>. A scrape never fails because the store does: the store
/// gauges are then left out and <c>job_store_up</c> is 0.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, PrometheusInstrument> _instruments = new(StringComparer.Ordinal);
    private readonly Func<CancellationToken, Task> _refreshStoreGauges;
    private readonly SemaphoreSlim _observing = new(1, 1);
    private readonly Func<IEnumerable<(string Instrument, KeyValuePair<string, object?>[] Tags)>> _histogramsAtZero;

    // The meter's instruments exist once ConveyorMetrics does; the listener sees them as it starts.
    public PrometheusExporter(IMeterFactory meterFactory, ConveyorMetrics metrics)
        : this(meterFactory, metrics.StoreGauges.RefreshAsync, () => metrics.HistogramsAtZero)
    {
    }

    internal PrometheusExporter(
        IMeterFactory meterFactory,
        Func<CancellationToken, Task> refreshStoreGauges,
        Func<IEnumerable<(string Instrument, KeyValuePair<string, object?>[] Tags)>>? histogramsAtZero = null)
    {
        _refreshStoreGauges = refreshStoreGauges;
        _histogramsAtZero = histogramsAtZero ?? (static () => []);
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
        await _refreshStoreGauges(cancellationToken).ConfigureAwait(false);
        var builder = new StringBuilder(4096);
        // One scrape at a time observes the gauges: each observation replaces the previous one's series.
        await _observing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var instrument in _instruments.Values)
            {
                instrument.ClearIfObservable();
            }

            _listener.RecordObservableInstruments();
            foreach (var (name, tags) in _histogramsAtZero())
            {
                if (_instruments.TryGetValue(name, out var histogram))
                {
                    histogram.Touch(tags);
                }
            }

            foreach (var instrument in _instruments.Values.OrderBy(i => i.Name, StringComparer.Ordinal))
            {
                WriteInstrument(builder, instrument);
            }
        }
        finally
        {
            _observing.Release();
        }

        return builder.ToString();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _observing.Dispose();
    }

    private static void WriteInstrument(StringBuilder builder, PrometheusInstrument instrument)
    {
        PrometheusText.Header(builder, instrument.Name, instrument.Kind, instrument.Description);
        foreach (var series in instrument.Series)
        {
            var labels = series.Labels;
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
                PrometheusText.Line(builder, instrument.Name + "_bucket", $"{prefix}le=\"{PrometheusText.Number(instrument.Bounds[i])}\"", cumulative.ToString(CultureInfo.InvariantCulture));
            }

            cumulative += series.BucketCount(instrument.Bounds.Length);
            PrometheusText.Line(builder, instrument.Name + "_bucket", prefix + "le=\"+Inf\"", cumulative.ToString(CultureInfo.InvariantCulture));
            PrometheusText.Line(builder, instrument.Name + "_sum", labels, PrometheusText.Number(series.Sum));
            PrometheusText.Line(builder, instrument.Name + "_count", labels, cumulative.ToString(CultureInfo.InvariantCulture));
        }
    }
}
