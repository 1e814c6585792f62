using System.Collections.Concurrent;

namespace Conveyor.Diagnostics;

/// <summary>
/// The <c>task_type</c> label of a measurement: the job type itself for the first <c>max</c> distinct types this
/// process records, <see cref="Other"/> for any type after them (<see cref="ConveyorMetricsOptions.MaxJobTypes"/>), so
/// that the number of series stays bounded whatever type names reach the counters. A known type costs one lookup.
/// </summary>
internal sealed class JobTypeLabels(int max)
{
    /// <summary>The label of the types past the cap; never a valid job type (it has no ':').</summary>
    public const string Other = "other";

    private readonly ConcurrentDictionary<string, bool> _labelled = new(StringComparer.Ordinal);
    private int _count;

    public string Of(string jobType)
    {
        if (_labelled.ContainsKey(jobType))
        {
            return jobType;
        }

        if (Volatile.Read(ref _count) >= max)
        {
            return Other;
        }

        if (_labelled.TryAdd(jobType, true))
        {
            Interlocked.Increment(ref _count);
        }

        return jobType;
    }
}
