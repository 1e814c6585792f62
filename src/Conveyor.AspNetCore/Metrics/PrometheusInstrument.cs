using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>What the exporter keeps about one instrument of the Conveyor meter: its kind, bounds and series by labels.</summary>
internal sealed class PrometheusInstrument
{
    private static readonly double[] DefaultBounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    // Keyed by the tags themselves: a measurement of a known series allocates nothing; the label text is built once,
    // when its series first appears.
    private readonly ConcurrentDictionary<SeriesKey, PrometheusSeries> _series = new();

    // Gauges report the current value; up-down counters report changes that add up.
    private readonly bool _lastValue;

    private readonly bool _observable;

    public PrometheusInstrument(Instrument instrument)
    {
        Name = instrument.Name;
        _observable = instrument.IsObservable;
        _lastValue = instrument is Gauge<long> or Gauge<double> or Gauge<int> || instrument.IsObservable;
        Description = instrument.Description ?? "";
        (Kind, Bounds) = instrument switch
        {
            Histogram<double> h => ("histogram", h.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBounds),
            Histogram<long> h => ("histogram", h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray() ?? DefaultBounds),
            Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => ("counter", []),
            _ => ("gauge", []),
        };
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>counter, gauge (gauges and up-down counters) or histogram.</summary>
    public string Kind { get; }

    public double[] Bounds { get; }

    /// <summary>Creates the series of <paramref name="tags"/> if it does not exist, with nothing observed.</summary>
    public void Touch(ReadOnlySpan<KeyValuePair<string, object?>> tags) => SeriesOf(tags);

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = SeriesOf(tags);
        if (Kind == "histogram")
        {
            series.Record(value, Bounds);
        }
        else if (_lastValue)
        {
            series.Set(value);
        }
        else
        {
            series.Add(value);
        }
    }

    private PrometheusSeries SeriesOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = SeriesKey.From(tags);
        return _series.TryGetValue(key, out var series)
            ? series
            : _series.GetOrAdd(key, static (_, state) => new PrometheusSeries(state.Bounds, state.Labels), (Bounds: Bounds.Length, Labels: Labels(tags)));
    }

    /// <summary>Forgets an observable instrument's series before it is observed again, so a queue that is gone (or a store that did not answer) leaves no stale line.</summary>
    public void ClearIfObservable()
    {
        if (_observable)
        {
            _series.Clear();
        }
    }

    public IEnumerable<PrometheusSeries> Series => _series.Values.OrderBy(s => s.Labels, StringComparer.Ordinal);

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }

        var builder = new StringBuilder(64);
        foreach (var (key, value) in tags)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(key).Append("=\"");
            PrometheusText.AppendEscaped(builder, SeriesKey.Text(value));
            builder.Append('"');
        }

        return builder.ToString();
    }
}
