namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    private readonly Dictionary<string, BatchRecord> _batches = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        cancellationToken.ThrowIfCancellationRequested();
        if (!jobs.Any(j => j?.BatchId == batch.Id))
        {
            throw new ArgumentException("A batch needs at least one job.", nameof(jobs));
        }

        lock (_gate)
        {
            if (_batches.ContainsKey(batch.Id))
            {
                throw new ArgumentException($"A batch with id '{batch.Id}' exists.", nameof(batch));
            }

            var now = _time.GetUtcNow();
            var record = new BatchRecord
            {
                Id = batch.Id,
                Tenant = batch.Tenant,
                Retention = batch.Retention,
                Workflow = batch.Workflow,
                CreatedAt = now,
                UpdatedAt = now,
            };
            if (RefuseAny(jobs, now, record) is { } refused)
            {
                return ValueTask.FromResult(refused);
            }

            _batches.Add(record.Id, record);
            return ValueTask.FromResult(StoreAll(jobs, now));
        }
    }

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (FindBatch(batchId, tenant) is not { State: BatchState.Running } batch)
            {
                return ValueTask.FromResult<EnqueueAllResult?>(null);
            }

            var now = _time.GetUtcNow();
            return ValueTask.FromResult<EnqueueAllResult?>(RefuseAny(jobs, now, batch) ?? StoreAll(jobs, now));
        }
    }

    /// <inheritdoc />
    public ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(FindBatch(batchId, tenant)?.ToInfo());
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<string>? requested = null;
        lock (_gate)
        {
            if (FindBatch(batchId, tenant) is not { State: BatchState.Running } batch)
            {
                return ValueTask.FromResult(false);
            }

            var now = _time.GetUtcNow();
            batch.State = BatchState.Cancelled;
            batch.UpdatedAt = now;
            foreach (var job in batch.Members.ToArray())
            {
                switch (job.State)
                {
                    case JobState.Waiting or JobState.Scheduled or JobState.Pending or JobState.Retrying:
                        job.AddError(new JobError(job.Attempts, WorkflowMessages.BatchCancelled(batchId), null, null, now));
                        MoveTo(job, JobState.Cancelled, now);
                        break;
                    case JobState.Active:
                        job.CancelRequested = true;
                        job.UpdatedAt = now;
                        (requested ??= []).Add(job.Id);
                        break;
                }
            }
        }

        foreach (var jobId in requested ?? [])
        {
            NotifyCancelRequested(jobId);
        }

        return ValueTask.FromResult(true);
    }

    private BatchRecord? FindBatch(string batchId, string tenant) =>
        _batches.TryGetValue(batchId, out var batch) && string.Equals(batch.Tenant, tenant, StringComparison.Ordinal) ? batch : null;

    /// <summary>The refusal of the first job of the list that cannot be stored (all or none), or null.</summary>
    private EnqueueAllResult? RefuseAny(IReadOnlyList<NewJob> jobs, DateTimeOffset now, BatchRecord? batch)
    {
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, now) is { } repeated)
        {
            return repeated;
        }

        var earlier = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < jobs.Count; i++)
        {
            if ((Refusal(jobs[i], now) ?? MissingDependency(jobs[i], now, earlier, batch)) is { } refusal)
            {
                return EnqueueAllResult.Refused(i, refusal);
            }

            earlier.Add(jobs[i].Id);
        }

        return null;
    }

    private EnqueueAllResult StoreAll(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        // Every member of the list counts in its batch's total before the first is stored: a member that finishes as
        // it is stored (cancelled, a dependency having already failed) must not finish its batch while members later
        // in the list are still to come, which would release the batch's callbacks before those run.
        foreach (var job in jobs)
        {
            if (job.BatchId is { } batchId)
            {
                _batches[batchId].Total++;
            }
        }

        var results = new EnqueueResult[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            results[i] = EnqueueCore(jobs[i], now, countedInBatch: true);
        }

        if (results.Any(static r => r.State == JobState.Pending))
        {
            Signal();
        }

        return EnqueueAllResult.Stored(results);
    }

    /// <summary>
    /// The refusal of a job whose dependency or batch does not exist in its tenant (and is not an earlier job of the
    /// same list, or the batch being created), or whose batch no longer runs (it takes no new member once finished or
    /// cancelled, as <see cref="AddToBatchAsync"/> adds to none); null when every one exists.
    /// </summary>
    private EnqueueResult? MissingDependency(NewJob job, DateTimeOffset now, IReadOnlySet<string>? earlier = null, BatchRecord? creating = null)
    {
        if (job.BatchId is { } batchId && creating?.Id != batchId && FindBatch(batchId, job.Tenant) is not { State: BatchState.Running })
        {
            return new EnqueueResult(EnqueueOutcome.DependencyNotFound, batchId, JobState.Waiting, job.Queue, now);
        }

        foreach (var dependency in job.DependsOn)
        {
            var found = dependency.OnBatch
                ? creating?.Id == dependency.Id || FindBatch(dependency.Id, job.Tenant) is not null
                : earlier?.Contains(dependency.Id) == true || Find(job.Tenant, dependency.Id) is not null;
            if (!found)
            {
                return new EnqueueResult(EnqueueOutcome.DependencyNotFound, dependency.Id, JobState.Waiting, job.Queue, now);
            }
        }

        return null;
    }

    /// <summary>
    /// For a new job with dependencies, stored waiting: links it to each unfinished dependency and resolves at once the
    /// finished ones, so a job whose dependencies have all finished is released (or cancelled) in the same step.
    /// </summary>
    private void LinkDependencies(JobRecord job, DateTimeOffset now)
    {
        JobDependency? unmet = null;
        foreach (var dependency in job.DependsOn)
        {
            if (dependency.OnBatch)
            {
                var batch = _batches[dependency.Id];
                if (batch.FinishedAt is null)
                {
                    batch.Dependants.Add((job, dependency));
                    job.WaitingFor++;
                }
                else if (dependency.SuccessOnly && batch.State != BatchState.Succeeded)
                {
                    unmet ??= dependency;
                }

                continue;
            }

            var target = _jobs[dependency.Id];
            if (!target.State.IsFinished())
            {
                (target.Dependants ??= []).Add((job, dependency));
                job.WaitingFor++;
            }
            else if (dependency.SuccessOnly && target.State is not (JobState.Succeeded or JobState.Partial))
            {
                unmet ??= dependency;
            }
        }

        if (unmet is not null)
        {
            EndWaiting(job, unmet, now);
        }
        else if (job.WaitingFor == 0)
        {
            Release(job, now);
        }
    }

    /// <summary>
    /// Runs inside the transition that finished <paramref name="job"/> as <paramref name="outcome"/>: counts it in its
    /// batch (finishing the batch with its last member) and resolves every job waiting for it.
    /// </summary>
    private void Finished(JobRecord job, JobState outcome, DateTimeOffset now)
    {
        var succeeded = outcome is JobState.Succeeded or JobState.Partial;
        if (job.BatchId is { } batchId && !job.CountedInBatch && _batches.TryGetValue(batchId, out var batch))
        {
            job.CountedInBatch = true;
            switch (outcome)
            {
                case JobState.Succeeded or JobState.Partial:
                    batch.Succeeded++;
                    break;
                case JobState.Failed:
                    batch.Failed++;
                    break;
                default:
                    batch.Cancelled++;
                    break;
            }

            // The batch's time moves only forward: a call that began before, but ran after, another that changed the
            // batch finishes it, and releases its callbacks, no earlier than that other's end (as every store does).
            batch.UpdatedAt = now > batch.UpdatedAt ? now : batch.UpdatedAt;
            if (batch.Unfinished == 0 && batch.FinishedAt is null)
            {
                var at = batch.UpdatedAt;
                batch.FinishedAt = at;
                batch.ExpiresAt = at + batch.Retention;
                if (batch.State == BatchState.Running)
                {
                    batch.State = batch.Succeeded == batch.Total ? BatchState.Succeeded : BatchState.Completed;
                }

                var callbacks = batch.Dependants.ToArray();
                batch.Dependants.Clear();
                foreach (var (dependant, link) in callbacks)
                {
                    // A batch cancelled as a whole keeps its state, and its success callbacks are not met.
                    Resolve(dependant, link, batch.State == BatchState.Succeeded, at);
                }
            }
        }

        if (job.Dependants is { } dependants)
        {
            job.Dependants = null;
            foreach (var (dependant, link) in dependants)
            {
                Resolve(dependant, link, succeeded, now);
            }
        }
    }

    /// <summary>
    /// Runs inside the requeue of a failed or cancelled <paramref name="job"/>: while its batch runs (unfinished, not
    /// cancelled as a whole), the job's
    /// end leaves the batch's counts, so that its next end is counted as any member's; a finished batch keeps the ends
    /// it was decided by.
    /// </summary>
    private void Rejoin(JobRecord job, DateTimeOffset now)
    {
        if (job.BatchId is not { } batchId || !job.CountedInBatch || !_batches.TryGetValue(batchId, out var batch) || batch.FinishedAt is not null
            || batch.State != BatchState.Running)
        {
            return;
        }

        if (job.State == JobState.Failed)
        {
            batch.Failed--;
        }
        else
        {
            batch.Cancelled--;
        }

        job.CountedInBatch = false;
        batch.UpdatedAt = now;
    }

    private void Resolve(JobRecord dependant, JobDependency link, bool succeeded, DateTimeOffset now)
    {
        if (dependant.State != JobState.Waiting)
        {
            return;
        }

        if (link.SuccessOnly && !succeeded)
        {
            EndWaiting(dependant, link, now);
        }
        else if (--dependant.WaitingFor == 0)
        {
            Release(dependant, now);
        }
    }

    /// <summary>A success-only dependency did not succeed: the waiting job is cancelled, or failed by its policy.</summary>
    private void EndWaiting(JobRecord job, JobDependency unmet, DateTimeOffset now)
    {
        var fails = unmet.FailsDependant;
        var message = fails ? WorkflowMessages.DependencyFailed(unmet.Id) : WorkflowMessages.DependencyDidNotSucceed(unmet.Id);
        job.AddError(new JobError(job.Attempts, message, null, null, now));
        MoveTo(job, fails ? JobState.Failed : JobState.Cancelled, now);
    }

    private void Release(JobRecord job, DateTimeOffset now)
    {
        var state = job.ScheduledAt > now ? JobState.Scheduled : JobState.Pending;
        MoveTo(job, state, ReleasedAt(job, now));
        if (state == JobState.Pending)
        {
            _flowReleases++;
            Signal();
        }
    }

    /// <summary>
    /// When a released job is stamped released: now, unless what it waited for ended later. Two acknowledgements may
    /// each take their time before either applies, and the one that releases the job may have taken the earlier one;
    /// the job's own times must still not precede the end of anything it waited for.
    /// </summary>
    private DateTimeOffset ReleasedAt(JobRecord job, DateTimeOffset now)
    {
        var at = now;
        foreach (var dependency in job.DependsOn)
        {
            var ended = dependency.OnBatch
                ? _batches.TryGetValue(dependency.Id, out var batch) ? batch.FinishedAt : null
                : _jobs.TryGetValue(dependency.Id, out var target) ? target.CompletedAt : null;
            if (ended > at)
            {
                at = ended.Value;
            }
        }

        return at;
    }

    /// <summary>How many waiting jobs were made pending so far (under the lock): an acknowledgement that changed it released some.</summary>
    private long _flowReleases;

    /// <summary>Deletes batches whose retention after their last member passed.</summary>
    private void PurgeBatches(DateTimeOffset now)
    {
        if (_batches.Count == 0)
        {
            return;
        }

        foreach (var batch in _batches.Values.Where(b => b.ExpiresAt <= now).ToList())
        {
            _batches.Remove(batch.Id);
        }
    }

    /// <summary>A batch as the store holds it, touched only under the store's lock.</summary>
    private sealed class BatchRecord
    {
        public required string Id { get; init; }

        public required string Tenant { get; init; }

        public required TimeSpan Retention { get; init; }

        public WorkflowDefinition? Workflow { get; init; }

        public required DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset UpdatedAt { get; set; }

        public BatchState State { get; set; }

        public int Total { get; set; }

        public int Succeeded { get; set; }

        public int Failed { get; set; }

        public int Cancelled { get; set; }

        public int Unfinished => Total - Succeeded - Failed - Cancelled;

        public DateTimeOffset? FinishedAt { get; set; }

        public DateTimeOffset? ExpiresAt { get; set; }

        public List<JobRecord> Members { get; } = [];

        public List<(JobRecord Job, JobDependency Link)> Dependants { get; } = [];

        public BatchInfo ToInfo() => new()
        {
            Id = Id,
            Tenant = Tenant,
            State = State,
            Total = Total,
            Succeeded = Succeeded,
            Failed = Failed,
            Cancelled = Cancelled,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            FinishedAt = FinishedAt,
            Workflow = Workflow,
        };
    }
}
