using System.Collections.Concurrent;
using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>The jobs this server holds a lease on: fetched and not yet acknowledged (buffered, running, or awaiting the write).</summary>
internal sealed class HeldJobs
{
    private readonly ConcurrentDictionary<string, RunningJob> _jobs = new(StringComparer.Ordinal);

    // Leases this server stopped holding without acknowledging them, each with the order it was let go in: the store may
    // still list them as this server's, and they must expire and be recovered (their attempt counted) rather than be
    // handed back as leases this server never knew of (LeaseReconciler).
    private readonly ConcurrentDictionary<LeaseRef, long> _lapsing = new();
    private long _lapses;

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
    public bool Remove(string jobId, long leaseToken) => Remove(jobId, leaseToken, out _);

    /// <summary>As <see cref="Remove(string, long)"/>, giving the run it stopped holding.</summary>
    public bool Remove(string jobId, long leaseToken, out RunningJob run) =>
        _jobs.TryGetValue(jobId, out run!) && run.Job.LeaseToken == leaseToken && _jobs.TryRemove(new KeyValuePair<string, RunningJob>(jobId, run));

    /// <summary>
    /// Stops holding the job without an acknowledgement, only while it is held under <paramref name="leaseToken"/>: its
    /// lease is no longer extended, so it expires and the recoverer takes the job, its attempt counted (a run stopped past
    /// its lease, a worker's own failure, a signal wait the store may not have recorded). It stays known to
    /// <see cref="Knows"/> until a listing of this server's leases no longer has it.
    /// </summary>
    public bool LetLapse(string jobId, long leaseToken)
    {
        // Known as lapsing before it stops being held, so that a listing compared meanwhile sees it one way or the other.
        // A lease let lapse twice, even at once (its run stopped past its lease by two ticks, or then its worker found
        // nothing to record), stays known: an entry is never taken back here. One left for a lease the store ended
        // meanwhile is harmless, and ForgetLapsed drops it at the next listing.
        if (!(_jobs.TryGetValue(jobId, out var run) && run.Job.LeaseToken == leaseToken))
        {
            return false;
        }

        _lapsing.TryAdd(new LeaseRef(jobId, leaseToken), Interlocked.Increment(ref _lapses));
        return Remove(jobId, leaseToken);
    }

    /// <summary>Whether this server knows of the lease: it holds the job under that token, or let that lease lapse.</summary>
    public bool Knows(LeaseRef lease) =>
        (_jobs.TryGetValue(lease.JobId, out var run) && run.Job.LeaseToken == lease.LeaseToken) || _lapsing.ContainsKey(lease);

    /// <summary>How many leases were let lapse so far: a mark for <see cref="ForgetLapsed"/>.</summary>
    public long LapseMark => Interlocked.Read(ref _lapses);

    /// <summary>
    /// Forgets the lapsing leases let go up to <paramref name="mark"/> that <paramref name="listed"/> (this server's leases
    /// in the store, read after the mark was taken) no longer has: the store ended them, and a token is never reused.
    /// </summary>
    public void ForgetLapsed(long mark, IReadOnlyList<LeaseRef> listed)
    {
        if (_lapsing.IsEmpty)
        {
            return;
        }

        var stillListed = listed.ToHashSet();
        foreach (var (lease, order) in _lapsing)
        {
            if (order <= mark && !stillListed.Contains(lease))
            {
                _lapsing.TryRemove(new KeyValuePair<LeaseRef, long>(lease, order));
            }
        }
    }

    public bool TryGet(string jobId, out RunningJob run) => _jobs.TryGetValue(jobId, out run!);

    public IReadOnlyList<LeaseRef> Leases() => _jobs.Values.Select(r => new LeaseRef(r.Job.Id, r.Job.LeaseToken)).ToList();

    public IEnumerable<RunningJob> All => _jobs.Values;
}
