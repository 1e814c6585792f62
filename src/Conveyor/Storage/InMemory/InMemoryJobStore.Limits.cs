namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <summary>
    /// The tally of a dequeue's concurrency limits, from the active jobs (read under the lock). The slot is the active
    /// job itself, so nothing has to be given back when a job stops running.
    /// </summary>
    private ConcurrencyLimitCounts CountRunning(IReadOnlyList<ConcurrencyLimitRule> rules)
    {
        var counts = new ConcurrencyLimitCounts(rules);
        foreach (var entry in _leases)
        {
            var job = _jobs[entry.JobId];
            counts.AddRunning(job.Queue, job.Type, job.Tenant);
        }

        return counts;
    }
}
