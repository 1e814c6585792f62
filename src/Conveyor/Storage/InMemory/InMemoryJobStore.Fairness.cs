namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <summary>
    /// Takes up to <paramref name="count"/> jobs of a fair queue in turns between its tenants (see
    /// <see cref="DequeueRequest.FairQueues"/>), under the store's lock; returns the tenant of the last job taken, the
    /// next turn's start.
    /// </summary>
    private string TakeInTurns(
        QueueState queue, int count, string lastTenant, ConcurrencyLimitCounts? limits, DateTimeOffset now, DequeueRequest request, List<LeasedJob> leased)
    {
        for (var round = 0; round < DequeueRequest.FairRounds && count > 0 && queue.PendingByTenant.Count > 0; round++)
        {
            var tenants = FairTurns.After(queue.PendingByTenant.Keys, lastTenant, count);
            var share = FairTurns.Share(count, tenants.Count);
            var candidates = new List<IReadOnlyList<JobRecord>>(tenants.Count);
            foreach (var tenant in tenants)
            {
                candidates.Add(queue.PendingByTenant[tenant].Take(limits is null ? share : DequeueRequest.LimitedScanDepth).ToArray());
            }

            var taken = 0;
            var perTenant = new int[tenants.Count];
            foreach (var (position, job) in FairTurns.InTurns(candidates))
            {
                if (taken == count)
                {
                    break;
                }

                if (perTenant[position] == share || (limits is not null && !limits.TryTake(job.Queue, job.Type, job.Tenant)))
                {
                    continue;
                }

                perTenant[position]++;
                LeaseJob(job, now, request, leased);
                lastTenant = job.Tenant;
                taken++;
            }

            count -= taken;
            if (taken == 0)
            {
                break;
            }
        }

        return lastTenant;
    }
}
