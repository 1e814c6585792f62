namespace Conveyor.AspNetCore.Metrics;

/// <summary>
/// The running totals of one instrument for one set of tag values: a sum for counters and gauges, bucket counts plus
/// sum and count for histograms. Updated lock-free from whichever thread records a measurement.
/// </summary>
internal sealed class PrometheusSeries(int bucketCount, string labels)
{
    /// <summary>The series' labels in the exposition format (<c>task_type="x",queue="y"</c>), built once.</summary>
    public string Labels { get; } = labels;

    private readonly long[] _buckets = new long[bucketCount + 1];
    private double _sum;
    private long _count;

    public double Sum => Volatile.Read(ref _sum);

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Counts per bucket (not cumulative); the last one is above every bound.</summary>
    public long BucketCount(int index) => Interlocked.Read(ref _buckets[index]);

    /// <summary>A gauge that is set rather than added to (<see cref="System.Diagnostics.Metrics.Gauge{T}"/>).</summary>
    public void Set(double value)
    {
        Volatile.Write(ref _sum, value);
        Interlocked.Increment(ref _count);
    }

    public void Add(double value)
    {
        double current, updated;
        do
        {
            current = Volatile.Read(ref _sum);
            updated = current + value;
        }
        while (Interlocked.CompareExchange(ref _sum, updated, current) != current);

        Interlocked.Increment(ref _count);
    }

    public void Record(double value, double[] bounds)
    {
        var index = Array.BinarySearch(bounds, value);
        // Prometheus buckets are "less than or equal to the bound": an exact match belongs to that bound's bucket.
        Interlocked.Increment(ref _buckets[index >= 0 ? index : ~index]);
        Add(value);
    }
}
