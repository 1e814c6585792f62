namespace Conveyor.Storage.InMemory;

/// <summary>
/// A store that keeps everything in the process's memory: for unit tests, samples and single-process
/// tools. It implements the whole storage contract and passes the same conformance suite as the
/// durable stores, but loses every job when the process ends.
/// </summary>
/// <remarks>
/// One lock guards all state; every operation is short and allocation-light under it. Each queue keeps
/// its pending jobs in a linked list in the order they became pending, and scheduled, active and
/// finished jobs sit in sets ordered by the moment that matters to them (due, lease expiry, end of
/// retention), so a dequeue, promotion, recovery or purge costs the same however many other jobs
/// the store holds.
/// </remarks>
public sealed partial class InMemoryJobStore : IJobStore
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueState> _queues = new(StringComparer.Ordinal);

    // Scheduled and retrying jobs by due time, active jobs by lease expiry, finished jobs by end of retention.
    private readonly SortedSet<TimedEntry> _due = [];
    private readonly SortedSet<TimedEntry> _leases = [];
    private readonly SortedSet<TimedEntry> _retained = [];

    private long _sequence;
    private long _lastLeaseToken;

    /// <summary>Creates an empty store that takes its time from <paramref name="timeProvider"/> (the system clock when null).</summary>
    public InMemoryJobStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string Name => "memory";

    /// <inheritdoc />
    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    private QueueState GetQueue(string name)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            queue = new QueueState(name);
            _queues.Add(name, queue);
        }

        return queue;
    }

    /// <summary>
    /// The one place a job changes state, so that the per-queue counts and the indexes (pending list,
    /// due, lease and retention sets) can never disagree with the job itself.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="state">Its new state.</param>
    /// <param name="now">The store's time.</param>
    /// <param name="keepPlace">
    /// For a leased job that goes back to pending (recovered or released): it takes back its place in the queue (its
    /// PlaceSince), ahead of every job that became pending after it, instead of going to the back. Its wait
    /// (PendingSince) is the caller's to set: a job whose attempt ran waits from now, one that never started keeps it.
    /// </param>
    private void MoveTo(JobRecord job, JobState state, DateTimeOffset now, bool keepPlace = false)
    {
        Unindex(job);
        var queue = GetQueue(job.Queue);
        queue.Counts[(int)job.State]--;
        queue.Counts[(int)state]++;
        var finishes = state.IsFinished() && !job.State.IsFinished();
        job.State = state;
        job.UpdatedAt = now;
        Index(job, now, keepPlace);
        if (finishes && (job.Dependants is not null || (job.BatchId is not null && !job.CountedInBatch)))
        {
            // The same step that finishes the job resolves what waits for it (Workflows).
            Finished(job, state, now);
        }
    }

    private void Index(JobRecord job, DateTimeOffset now, bool keepPlace = false)
    {
        switch (job.State)
        {
            case JobState.Pending when keepPlace:
                job.PendingNode = InsertInPlace(GetQueue(job.Queue).Pending, job);
                job.TenantPendingNode = InsertInPlace(TenantPending(job), job);
                break;
            case JobState.Pending:
                job.PendingSince = now;
                job.PlaceSince = now;
                job.PendingNode = GetQueue(job.Queue).Pending.AddLast(job);
                job.TenantPendingNode = TenantPending(job).AddLast(job);
                break;
            case JobState.Scheduled or JobState.Retrying:
                job.Entry = new TimedEntry(job.ScheduledAt ?? now, job.Sequence, job.Id);
                _due.Add(job.Entry.Value);
                break;
            case JobState.Active:
                job.Entry = new TimedEntry(job.LeaseExpiresAt, job.Sequence, job.Id);
                _leases.Add(job.Entry.Value);
                break;
            case JobState.Waiting:
                break;
            default:
                job.CompletedAt = now;
                job.CancelRequested = false;
                var retention = job.State switch
                {
                    JobState.Failed or JobState.Partial => job.FailedRetention ?? job.Retention,
                    JobState.Cancelled => job.CancelledRetention ?? job.Retention,
                    _ => job.Retention,
                };
                var until = retention >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + retention;
                job.Entry = new TimedEntry(until, job.Sequence, job.Id);
                _retained.Add(job.Entry.Value);
                job.FinishedEntry = new TimedEntry(now, job.Sequence, job.Id);
                GetQueue(job.Queue).FinishedOf(job.State).Add(job.FinishedEntry.Value);
                break;
        }
    }

    /// <summary>
    /// Inserts the job in front of the first pending job that became pending after it (or in the same instant but was
    /// created later): the head of the queue, unless other jobs handed back before it are still waiting there.
    /// </summary>
    private static LinkedListNode<JobRecord> InsertInPlace(LinkedList<JobRecord> pending, JobRecord job)
    {
        for (var node = pending.First; node is not null; node = node.Next)
        {
            var other = node.Value;
            if (other.PlaceSince > job.PlaceSince || (other.PlaceSince == job.PlaceSince && other.Sequence > job.Sequence))
            {
                return pending.AddBefore(node, job);
            }
        }

        return pending.AddLast(job);
    }

    private LinkedList<JobRecord> TenantPending(JobRecord job)
    {
        var byTenant = GetQueue(job.Queue).PendingByTenant;
        if (!byTenant.TryGetValue(job.Tenant, out var list))
        {
            list = new LinkedList<JobRecord>();
            byTenant.Add(job.Tenant, list);
        }

        return list;
    }

    private void Unindex(JobRecord job)
    {
        if (job.PendingNode is { } node)
        {
            node.List!.Remove(node);
            job.PendingNode = null;
        }

        if (job.TenantPendingNode is { } tenantNode)
        {
            var list = tenantNode.List!;
            list.Remove(tenantNode);
            job.TenantPendingNode = null;
            if (list.Count == 0)
            {
                GetQueue(job.Queue).PendingByTenant.Remove(job.Tenant);
            }
        }

        if (job.Entry is { } entry)
        {
            var set = job.State switch
            {
                JobState.Scheduled or JobState.Retrying => _due,
                JobState.Active => _leases,
                _ => _retained,
            };
            set.Remove(entry);
            job.Entry = null;
        }

        if (job.FinishedEntry is { } finished)
        {
            GetQueue(job.Queue).FinishedOf(job.State).Remove(finished);
            job.FinishedEntry = null;
        }
    }

    private void Remove(JobRecord job)
    {
        var resolve = !job.State.IsFinished() && (job.Dependants is not null || (job.BatchId is not null && !job.CountedInBatch));
        Unindex(job);
        GetQueue(job.Queue).Counts[(int)job.State]--;
        _jobs.Remove(job.Id);
        RemoveFromListing(job);
        if (job.UniqueKey is { } key && _uniqueKeys.TryGetValue((job.Tenant, key), out var holder) && holder == job.Id)
        {
            _uniqueKeys.Remove((job.Tenant, key));
        }

        if (resolve)
        {
            // A deleted job will never finish: what waits for it is resolved as if it had been cancelled.
            Finished(job, JobState.Cancelled, _time.GetUtcNow());
        }
    }

    /// <summary>Entries of <paramref name="set"/> due at or before <paramref name="until"/>, oldest first, at most <paramref name="limit"/>; copied so the caller may change the set.</summary>
    private static List<TimedEntry> TakeDue(SortedSet<TimedEntry> set, DateTimeOffset until, int limit, bool inclusive)
    {
        var taken = new List<TimedEntry>();
        foreach (var entry in set)
        {
            if (taken.Count >= limit || entry.At > until || (!inclusive && entry.At == until))
            {
                break;
            }

            taken.Add(entry);
        }

        return taken;
    }
}
