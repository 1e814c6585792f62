using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>
/// Splits the free worker slots of each fetch between queues. Weighted mode uses smooth weighted round-robin
/// (the nginx algorithm): over any window of <c>sum(weights)</c> picks each queue gets exactly its weight, and no
/// queue waits more than one cycle, unlike the weighted random shuffle of asynq and Sidekiq that is fair only on
/// average. Strict mode lists the queues by weight and gives each the whole batch, so lower queues only get what
/// higher ones leave.
/// </summary>
internal sealed class WeightedQueueSelector
{
    private readonly string[] _queues;
    private readonly int[] _weights;
    private readonly int[] _current;
    private readonly int _totalWeight;
    private readonly bool _strict;
    private readonly Lock _lock = new();

    public WeightedQueueSelector(IReadOnlyDictionary<string, int> queues, bool strictPriority)
    {
        var ordered = queues.OrderByDescending(q => q.Value).ThenBy(q => q.Key, StringComparer.Ordinal).ToArray();
        _queues = ordered.Select(q => q.Key).ToArray();
        _weights = ordered.Select(q => q.Value).ToArray();
        _current = new int[_queues.Length];
        _totalWeight = _weights.Sum();
        _strict = strictPriority;
    }

    public IReadOnlyList<string> Queues => _queues;

    /// <summary>Quotas for <paramref name="slots"/> jobs, queues in priority order (the order the store fills leftover slots in).</summary>
    public IReadOnlyList<QueueQuota> NextQuotas(int slots)
    {
        var quotas = new QueueQuota[_queues.Length];
        if (_strict)
        {
            for (var i = 0; i < _queues.Length; i++)
            {
                quotas[i] = new QueueQuota(_queues[i], slots);
            }

            return quotas;
        }

        var counts = new int[_queues.Length];
        lock (_lock)
        {
            for (var pick = 0; pick < slots; pick++)
            {
                counts[NextPick()]++;
            }
        }

        for (var i = 0; i < _queues.Length; i++)
        {
            quotas[i] = new QueueQuota(_queues[i], counts[i]);
        }

        return quotas;
    }

    private int NextPick()
    {
        var best = 0;
        for (var i = 0; i < _current.Length; i++)
        {
            _current[i] += _weights[i];
            if (_current[i] > _current[best])
            {
                best = i;
            }
        }

        _current[best] -= _totalWeight;
        return best;
    }
}
