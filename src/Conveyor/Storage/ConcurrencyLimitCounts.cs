namespace Conveyor.Storage;

/// <summary>
/// One dequeue's tally of its <see cref="DequeueRequest.ConcurrencyLimits"/>, for a store that applies them in its own
/// process inside the dequeue's atomic step (the in-memory store under its lock, SQLite in its write transaction):
/// add the active jobs the store holds, then ask <see cref="TryTake"/> for each pending job in queue order.
/// </summary>
public sealed class ConcurrencyLimitCounts
{
    private readonly IReadOnlyList<ConcurrencyLimitRule> _rules;
    private readonly Dictionary<(int Rule, string Tenant), int> _running = [];

    /// <summary>A tally for <paramref name="rules"/>, with no job counted yet.</summary>
    public ConcurrencyLimitCounts(IReadOnlyList<ConcurrencyLimitRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = rules;
    }

    /// <summary>True when a rule names the queue: its dequeue must go through <see cref="TryTake"/>.</summary>
    public bool Limits(string queue)
    {
        foreach (var rule in _rules)
        {
            if (string.Equals(rule.Queue, queue, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Counts <paramref name="count"/> active jobs of this queue, type and tenant under every rule that matches them.</summary>
    public void AddRunning(string queue, string type, string tenant, int count = 1)
    {
        for (var i = 0; i < _rules.Count; i++)
        {
            if (_rules[i].Matches(queue, type))
            {
                var key = Key(i, tenant);
                _running[key] = _running.GetValueOrDefault(key) + count;
            }
        }
    }

    /// <summary>Counts the job and returns true if every rule that matches it has a free slot; false, counting nothing, otherwise.</summary>
    public bool TryTake(string queue, string type, string tenant)
    {
        for (var i = 0; i < _rules.Count; i++)
        {
            if (_rules[i].Matches(queue, type) && _running.GetValueOrDefault(Key(i, tenant)) >= _rules[i].Max)
            {
                return false;
            }
        }

        AddRunning(queue, type, tenant);
        return true;
    }

    private (int, string) Key(int rule, string tenant) => (rule, _rules[rule].PerTenant ? tenant : "");
}
