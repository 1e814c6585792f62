using System.Collections.Concurrent;
using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>The jobs this server holds a lease on: fetched and not yet acknowledged (buffered, running, or awaiting the write).</summary>
internal sealed class HeldJobs
{
    private readonly ConcurrentDictionary<string, RunningJob> _jobs = new(StringComparer.Ordinal);

    public int Count => _jobs.Count;

    public void Add(RunningJob run) => _jobs[run.Job.Id] = run;

    public bool Remove(string jobId) => _jobs.TryRemove(jobId, out _);

    /// <summary>Removes the job only while it is held under <paramref name="leaseToken"/>: a later lease of the same job stays held.</summary>
    public bool Remove(string jobId, long leaseToken) =>
        _jobs.TryGetValue(jobId, out var run) && run.Job.LeaseToken == leaseToken && _jobs.TryRemove(new KeyValuePair<string, RunningJob>(jobId, run));

    public bool TryGet(string jobId, out RunningJob run) => _jobs.TryGetValue(jobId, out run!);

    public IReadOnlyList<LeaseRef> Leases() => _jobs.Values.Select(r => new LeaseRef(r.Job.Id, r.Job.LeaseToken)).ToList();

    public IEnumerable<RunningJob> All => _jobs.Values;
}
