namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    // Per tenant, every job's listing key, newest first: a page starts where the cursor left off.
    private readonly Dictionary<string, SortedSet<ListingKey>> _listings = new(StringComparer.Ordinal);

    // Every tenant's jobs in the same order, for an operator's listing.
    private readonly SortedSet<ListingKey> _allListing = [];

    /// <inheritdoc />
    public ValueTask<JobInfo?> GetAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(Find(tenant, jobId)?.ToInfo());
        }
    }

    /// <inheritdoc />
    public ValueTask<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, JobQuery.MaxLimit, nameof(query));
        ListingKey? after = null;
        if (query.Cursor is not null)
        {
            if (!JobCursor.TryDecode(query.Cursor, out var cursor))
            {
                throw new ArgumentException("The cursor is not one this store returned.", nameof(query));
            }

            after = new ListingKey(cursor.CreatedAtUnixMicroseconds, cursor.JobId);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var page = new List<JobInfo>();
            SortedSet<ListingKey>? listing = _allListing;
            if ((query.Tenant is { } tenant && !_listings.TryGetValue(tenant, out listing)) || listing.Count == 0)
            {
                return ValueTask.FromResult(new JobPage(page, null));
            }

            IEnumerable<ListingKey> keys = listing;
            if (after is { } from)
            {
                if (from.CompareTo(listing.Max) >= 0)
                {
                    return ValueTask.FromResult(new JobPage(page, null));
                }

                keys = listing.GetViewBetween(from, listing.Max);
            }

            JobRecord? last = null;
            foreach (var key in keys)
            {
                if (key == after)
                {
                    continue;
                }

                var job = _jobs[key.JobId];
                if ((query.State is { } state && job.State != state)
                    || (query.Type is { } type && !string.Equals(job.Type, type, StringComparison.Ordinal))
                    || (query.Queue is { } queue && !string.Equals(job.Queue, queue, StringComparison.Ordinal))
                    || (query.BatchId is { } batchId && !string.Equals(job.BatchId, batchId, StringComparison.Ordinal))
                    || (query.CreatedAfter is { } createdAfter && job.CreatedAt < createdAfter)
                    || (query.CreatedBefore is { } createdBefore && job.CreatedAt >= createdBefore)
                    || (query.ErrorContains is { } error && !JobQuery.LastErrorContains(job.Errors, error)))
                {
                    continue;
                }

                if (page.Count == query.Limit)
                {
                    // One more match exists, so there is a next page; it starts after the last job shown.
                    var next = new JobCursor(JobCursor.ToUnixMicroseconds(last!.CreatedAt), last.Id).Encode();
                    return ValueTask.FromResult(new JobPage(page, next));
                }

                page.Add(job.ToInfo());
                last = job;
            }

            return ValueTask.FromResult(new JobPage(page, null));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobCommandResult result;
        lock (_gate)
        {
            var job = Find(tenant, jobId);
            var now = _time.GetUtcNow();
            switch (job?.State)
            {
                case null:
                    result = JobCommandResult.NotFound;
                    break;
                case JobState.Scheduled or JobState.Pending or JobState.Retrying or JobState.Waiting:
                    MoveTo(job, JobState.Cancelled, now);
                    result = JobCommandResult.Done;
                    break;
                case JobState.Active:
                    // The worker learns of it from the signal below, or else at its next lease extension.
                    job.CancelRequested = true;
                    job.UpdatedAt = now;
                    result = JobCommandResult.Requested;
                    break;
                default:
                    result = JobCommandResult.NotAllowed;
                    break;
            }
        }

        if (result == JobCommandResult.Requested)
        {
            NotifyCancelRequested(jobId);
        }

        return ValueTask.FromResult(result);
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var job = Find(tenant, jobId);
            switch (job?.State)
            {
                case null:
                    return ValueTask.FromResult(JobCommandResult.NotFound);
                case JobState.Failed or JobState.Cancelled or JobState.Scheduled or JobState.Retrying:
                    var now = _time.GetUtcNow();

                    // Attempts keep counting, so the next attempt's error has its own number; nothing of the
                    // earlier attempts' times or progress is left to look current.
                    job.ScheduledAt = now;
                    job.StartedAt = null;
                    job.CompletedAt = null;
                    job.Progress = 0;
                    if (job.State is JobState.Failed or JobState.Cancelled)
                    {
                        Rejoin(job, now);
                    }

                    MoveTo(job, JobState.Pending, now);
                    Signal();
                    return ValueTask.FromResult(JobCommandResult.Done);
                default:
                    return ValueTask.FromResult(JobCommandResult.NotAllowed);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var job = Find(tenant, jobId);
            switch (job?.State)
            {
                case null:
                    return ValueTask.FromResult(JobCommandResult.NotFound);
                case JobState.Active:
                    return ValueTask.FromResult(JobCommandResult.NotAllowed);
                default:
                    Remove(job);
                    return ValueTask.FromResult(JobCommandResult.Done);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var stats = _queues.Values
                .Where(static q => q.IsListed)
                .OrderBy(static q => q.Name, StringComparer.Ordinal)
                .Select(static q => new QueueStats
                {
                    Queue = q.Name,
                    Paused = q.Paused,
                    Scheduled = q.Counts[(int)JobState.Scheduled],
                    Pending = q.Counts[(int)JobState.Pending],
                    Active = q.Counts[(int)JobState.Active],
                    Retrying = q.Counts[(int)JobState.Retrying],
                    Succeeded = q.Counts[(int)JobState.Succeeded],
                    Partial = q.Counts[(int)JobState.Partial],
                    Failed = q.Counts[(int)JobState.Failed],
                    Cancelled = q.Counts[(int)JobState.Cancelled],
                    Waiting = q.Counts[(int)JobState.Waiting],
                    OldestPendingSince = q.Pending.First?.Value.PendingSince,
                })
                .ToArray();
            return ValueTask.FromResult<IReadOnlyList<QueueStats>>(stats);
        }
    }

    /// <inheritdoc />
    public ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            GetQueue(queue).Paused = true;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var state = GetQueue(queue);
            state.Paused = false;
            if (state.Pending.Count > 0)
            {
                Signal();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The job if it exists in that tenant: another tenant's job is treated as one that does not exist.</summary>
    private JobRecord? Find(string tenant, string jobId) =>
        _jobs.TryGetValue(jobId, out var job) && string.Equals(job.Tenant, tenant, StringComparison.Ordinal) ? job : null;

    private void AddToListing(JobRecord job)
    {
        if (!_listings.TryGetValue(job.Tenant, out var listing))
        {
            listing = [];
            _listings.Add(job.Tenant, listing);
        }

        listing.Add(ListingKey.Of(job));
        _allListing.Add(ListingKey.Of(job));
    }

    private void RemoveFromListing(JobRecord job)
    {
        if (_listings.TryGetValue(job.Tenant, out var listing))
        {
            listing.Remove(ListingKey.Of(job));
        }

        _allListing.Remove(ListingKey.Of(job));
    }

    /// <summary>A job's place in its tenant's listing: created-at (in the cursor's microseconds), then id, both descending.</summary>
    private readonly record struct ListingKey(long CreatedAtUnixMicroseconds, string JobId) : IComparable<ListingKey>
    {
        public static ListingKey Of(JobRecord job) => new(JobCursor.ToUnixMicroseconds(job.CreatedAt), job.Id);

        public int CompareTo(ListingKey other)
        {
            var byTime = other.CreatedAtUnixMicroseconds.CompareTo(CreatedAtUnixMicroseconds);
            return byTime != 0 ? byTime : string.CompareOrdinal(other.JobId, JobId);
        }
    }

    /// <summary>Every job the store holds, across tenants, in the order they were stored (the testing package's view).</summary>
    internal IReadOnlyList<JobInfo> AllJobs()
    {
        lock (_gate)
        {
            return [.. _jobs.Values.OrderBy(static j => j.Sequence).Select(static j => j.ToInfo())];
        }
    }

    /// <summary>The names of every queue the store has seen.</summary>
    internal IReadOnlyList<string> QueueNames()
    {
        lock (_gate)
        {
            return [.. _queues.Keys];
        }
    }
}
