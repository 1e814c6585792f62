namespace Conveyor.Storage;

/// <summary>
/// The turn order of a fair queue (<see cref="DequeueRequest.FairQueues"/>) for a store that chooses jobs in its own
/// process (in-memory, SQLite): which tenants take part in a round, how many jobs each may give, and the order in
/// which their jobs are taken.
/// </summary>
public static class FairTurns
{
    /// <summary>
    /// Up to <paramref name="max"/> tenants of <paramref name="tenantsInOrder"/> (ordinal order) in turn order: those
    /// after <paramref name="lastTenant"/>, then from the first, wrapping around.
    /// </summary>
    public static IReadOnlyList<string> After(IEnumerable<string> tenantsInOrder, string lastTenant, int max)
    {
        ArgumentNullException.ThrowIfNull(tenantsInOrder);
        ArgumentNullException.ThrowIfNull(lastTenant);
        var before = new List<string>();
        var after = new List<string>();
        foreach (var tenant in tenantsInOrder)
        {
            if (string.CompareOrdinal(tenant, lastTenant) > 0)
            {
                after.Add(tenant);
                if (after.Count == max)
                {
                    break;
                }
            }
            else if (before.Count < max)
            {
                before.Add(tenant);
            }
        }

        after.AddRange(before.Take(max - after.Count));
        return after;
    }

    /// <summary>How many jobs each of <paramref name="tenants"/> tenants may give to fill <paramref name="count"/> slots: the count divided among them, rounded up.</summary>
    public static int Share(int count, int tenants) => tenants == 0 ? 0 : (count + tenants - 1) / tenants;

    /// <summary>
    /// The candidates of every tenant (each list in queue order, tenants in turn order) in turn order: the first of
    /// each tenant, then the second of each, and so on; with each the position of its tenant.
    /// </summary>
    public static IEnumerable<(int Position, T Job)> InTurns<T>(IReadOnlyList<IReadOnlyList<T>> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var longest = candidates.Count == 0 ? 0 : candidates.Max(static c => c.Count);
        for (var rank = 0; rank < longest; rank++)
        {
            for (var position = 0; position < candidates.Count; position++)
            {
                if (rank < candidates[position].Count)
                {
                    yield return (position, candidates[position][rank]);
                }
            }
        }
    }
}
