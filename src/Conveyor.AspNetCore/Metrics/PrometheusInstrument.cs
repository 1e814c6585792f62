using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>What the exporter keeps about one instrument of the Conveyor meter: its kind, bounds and series by labels.</summary>
internal sealed class PrometheusInstrument
{
    private static readonly double[] DefaultBounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly ConcurrentDictionary<string, PrometheusSeries> _series = new(StringComparer.Ordinal);

    // Gauge<T> reports the current value; up-down counters report changes that add up.
    private readonly bool _lastValue;

    public PrometheusInstrument(Instrument instrument)
    {
        Name = instrument.Name;
        _lastValue = instrument is Gauge<long> or Gauge<double>;
        Description = instrument.Description ?? "";
        (Kind, Bounds) = instrument switch
        {
            Histogram<double> h => ("histogram", h.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBounds),
            Histogram<long> h => ("histogram", h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray() ?? DefaultBounds),
            Counter<long> or Counter<double> => ("counter", []),
            _ => ("gauge", []),
        };
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>counter, gauge (up-down counters) or histogram.</summary>
    public string Kind { get; }

    public double[] Bounds { get; }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var series = _series.GetOrAdd(labels, static (_, bucketCount) => new PrometheusSeries(bucketCount), Bounds.Length);
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

    public IEnumerable<KeyValuePair<string, PrometheusSeries>> Series => _series.OrderBy(s => s.Key, StringComparer.Ordinal);

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
            PrometheusText.AppendEscaped(builder, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            builder.Append('"');
        }

        return builder.ToString();
    }
}
