using System.Collections.Concurrent;
using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>The jobs this server holds a lease on: fetched and not yet acknowledged (buffered, running, or awaiting the write).</summary>
internal sealed class HeldJobs
{
    private readonly ConcurrentDictionary<string, RunningJob> _jobs = new(StringComparer.Ordinal);

    public int Count => _jobs.Count;

    /// <summary>
    /// Holds a newly leased job. A run of the same job still held under an older lease has lost it (the store leased
    /// the job again, after recovering it while this server could not reach the store): it is stopped, so that one
    /// process never runs two attempts of a job at once.
    /// </summary>
    public void Add(RunningJob run)
    {
        _jobs.AddOrUpdate(
            run.Job.Id,
            static (_, fresh) => fresh,
            static (_, stale, fresh) =>
            {
                if (stale.Job.LeaseToken != fresh.Job.LeaseToken)
                {
                    stale.Stop(StopReason.LeaseLost);
                }

                return fresh;
            },
            run);
    }

    /// <summary>Removes the job only while it is held under <paramref name="leaseToken"/>: a later lease of the same job stays held.</summary>
    public bool Remove(string jobId, long leaseToken) =>
        _jobs.TryGetValue(jobId, out var run) && run.Job.LeaseToken == leaseToken && _jobs.TryRemove(new KeyValuePair<string, RunningJob>(jobId, run));

    public bool TryGet(string jobId, out RunningJob run) => _jobs.TryGetValue(jobId, out run!);

    public IReadOnlyList<LeaseRef> Leases() => _jobs.Values.Select(r => new LeaseRef(r.Job.Id, r.Job.LeaseToken)).ToList();

    public IEnumerable<RunningJob> All => _jobs.Values;
}
