using System.Collections.Concurrent;

namespace Conveyor.Diagnostics;

/// <summary>
/// The values one label of a measurement may take: the value itself for the first <c>max</c> distinct values this
/// process records, <c>other</c> for any value after them (<see cref="ConveyorMetricsOptions.MaxJobTypes"/> for
/// <c>task_type</c>, <see cref="ConveyorMetricsOptions.MaxSchedules"/> for <c>schedule</c>), so that the number of series
/// stays bounded whatever names reach the counters. A known value costs one lookup.
/// </summary>
internal sealed class BoundedLabels(int max, string other)
{
    /// <summary>The <c>task_type</c> of the types past the cap; never a valid job type (it has no ':').</summary>
    public const string OtherJobTypes = "other";

    /// <summary>The <c>schedule</c> of the schedules past the cap; never a valid schedule name (it has parentheses).</summary>
    public const string OtherSchedules = "(other)";

    private readonly ConcurrentDictionary<string, bool> _labelled = new(StringComparer.Ordinal);
    private int _count;

    public string Of(string value)
    {
        if (_labelled.ContainsKey(value))
        {
            return value;
        }

        if (Volatile.Read(ref _count) >= max)
        {
            return other;
        }

        if (_labelled.TryAdd(value, true))
        {
            Interlocked.Increment(ref _count);
        }

        return value;
    }
}
