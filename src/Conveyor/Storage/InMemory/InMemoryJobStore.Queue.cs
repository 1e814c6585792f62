namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    // (tenant, unique key) -> id of the last job stored with it; that job holds the key while unfinished and before its unique-until.
    private readonly Dictionary<(string Tenant, string Key), string> _uniqueKeys = [];

    /// <inheritdoc />
    public ValueTask<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var result = EnqueueCore(job, now);
            if (result is { Outcome: EnqueueOutcome.Enqueued, State: JobState.Pending })
            {
                Signal();
            }

            return ValueTask.FromResult(result);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new EnqueueResult[jobs.Count];
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var anyPending = false;
            for (var i = 0; i < jobs.Count; i++)
            {
                ArgumentNullException.ThrowIfNull(jobs[i]);
                results[i] = EnqueueCore(jobs[i], now);
                anyPending |= results[i] is { Outcome: EnqueueOutcome.Enqueued, State: JobState.Pending };
            }

            if (anyPending)
            {
                Signal();
            }
        }

        return ValueTask.FromResult<IReadOnlyList<EnqueueResult>>(results);
    }

    /// <summary>Stores one job; <paramref name="countedInBatch"/>: its batch's total already counts it (StoreAll).</summary>
    private EnqueueResult EnqueueCore(NewJob job, DateTimeOffset now, bool countedInBatch = false)
    {
        if (_jobs.TryGetValue(job.Id, out var existing))
        {
            return existing.ToResult(EnqueueOutcome.DuplicateId);
        }

        if (job.UniqueKey is { } key
            && _uniqueKeys.TryGetValue((job.Tenant, key), out var holderId)
            && _jobs.TryGetValue(holderId, out var holder)
            && !holder.State.IsFinished()
            && holder.UniqueUntil > now)
        {
            return holder.ToResult(EnqueueOutcome.DuplicateUniqueKey);
        }

        if (job.HasFlow && MissingDependency(job, now) is { } missing)
        {
            return missing;
        }

        var record = new JobRecord
        {
            Id = job.Id,
            Sequence = ++_sequence,
            Type = job.Type,
            Queue = job.Queue,
            Tenant = job.Tenant,
            Payload = job.Payload.ToArray(),
            MaxRetry = job.MaxRetry,
            Timeout = job.Timeout,
            Deadline = job.Deadline,
            UniqueKey = job.UniqueKey,
            UniqueUntil = job.UniqueUntil ?? DateTimeOffset.MaxValue,
            Retention = job.Retention,
            FailedRetention = job.FailedRetention,
            CancelledRetention = job.CancelledRetention,
            TraceParent = job.TraceParent,
            DependsOn = job.DependsOn,
            BatchId = job.BatchId,
            CreatedAt = now,
            UpdatedAt = now,
            ScheduledAt = job.ProcessAt,
            State = job.DependsOn.Count > 0 ? JobState.Waiting : job.ProcessAt > now ? JobState.Scheduled : JobState.Pending,
        };
        _jobs.Add(record.Id, record);
        GetQueue(record.Queue).Counts[(int)record.State]++;
        Index(record, now);
        AddToListing(record);
        if (job.UniqueKey is { } uniqueKey)
        {
            _uniqueKeys[(job.Tenant, uniqueKey)] = record.Id;
        }

        if (job.BatchId is { } batchId)
        {
            var batch = _batches[batchId];
            if (!countedInBatch)
            {
                batch.Total++;
            }

            batch.UpdatedAt = now;
            batch.Members.Add(record);
        }

        if (job.DependsOn.Count > 0)
        {
            LinkDependencies(record, now);
        }

        return record.ToResult(EnqueueOutcome.Enqueued);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<IReadOnlyList<LeasedJob>>(Dequeue(request));
    }

    /// <summary>The dequeue of <paramref name="request"/>, under the lock (taken here; the lock allows a caller that holds it).</summary>
    private List<LeasedJob> Dequeue(DequeueRequest request)
    {
        var leased = new List<LeasedJob>();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var limits = request.ConcurrencyLimits.Count > 0 ? CountRunning(request.ConcurrencyLimits) : null;
            var fair = request.FairQueues.Count > 0 ? request.FairQueues.ToDictionary(static f => f.Queue, static f => f.LastTenant, StringComparer.Ordinal) : null;

            // First pass honours each queue's quota, so the worker's weights hold exactly under load;
            // the second hands any slot left over to whichever listed queue still has work.
            foreach (var quota in request.Queues)
            {
                Take(quota.Queue, Math.Min(quota.Limit, request.Limit - leased.Count));
            }

            foreach (var quota in request.Queues)
            {
                Take(quota.Queue, request.Limit - leased.Count);
            }

            void Take(string queueName, int count)
            {
                if (count <= 0 || !_queues.TryGetValue(queueName, out var queue) || queue.Paused)
                {
                    return;
                }

                if (fair is not null && fair.TryGetValue(queueName, out var lastTenant))
                {
                    fair[queueName] = TakeInTurns(queue, count, lastTenant, limits, now, request, leased);
                    return;
                }

                if (limits is not null && limits.Limits(queueName))
                {
                    TakeWithinLimits(queue, count);
                    return;
                }

                for (var i = 0; i < count && queue.Pending.First is { } node; i++)
                {
                    Lease(node.Value);
                }
            }

            // A job whose limit is full stays where it is; the jobs behind it may still fit theirs.
            void TakeWithinLimits(QueueState queue, int count)
            {
                var taken = 0;
                var looked = 0;
                for (var node = queue.Pending.First; node is not null && taken < count && looked < DequeueRequest.LimitedScanDepth; looked++)
                {
                    var next = node.Next;
                    if (limits!.TryTake(node.Value.Queue, node.Value.Type, node.Value.Tenant))
                    {
                        Lease(node.Value);
                        taken++;
                    }

                    node = next;
                }
            }

            void Lease(JobRecord job) => LeaseJob(job, now, request, leased);
        }

        return leased;
    }

    private void LeaseJob(JobRecord job, DateTimeOffset now, DequeueRequest request, List<LeasedJob> leased)
    {
        // No start before the job became pending (a release may be stamped after the call's time: ReleasedAt), as on
        // the other stores, where a dequeue's time, taken when it is sent, can be older than the release it follows.
        var startedAt = job.PendingSince > now ? job.PendingSince : now;
        job.Attempts++;
        job.StartedAt = startedAt;
        job.LeaseToken = ++_lastLeaseToken;
        job.LeaseOwner = request.ServerId;
        job.LeaseExpiresAt = now + request.LeaseDuration;
        job.CancelRequested = false;
        MoveTo(job, JobState.Active, startedAt);
        leased.Add(job.ToLeased());
    }

    /// <inheritdoc />
    public ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(AcknowledgeMany(acknowledgements));
    }

    /// <inheritdoc />
    public ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        ArgumentNullException.ThrowIfNull(next);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var releasedBefore = _flowReleases;
            var applied = AcknowledgeMany(acknowledgements);
            if (_flowReleases == releasedBefore)
            {
                return ValueTask.FromResult(new AcknowledgeResult(applied, []));
            }

            var leased = Dequeue(next);
            return ValueTask.FromResult(new AcknowledgeResult(applied, leased));
        }
    }

    private int AcknowledgeMany(IReadOnlyList<JobAcknowledgement> acknowledgements)
    {
        var applied = 0;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var released = false;
            foreach (var ack in acknowledgements)
            {
                if (ack.IdempotencyKey is not null)
                {
                    SettleIdempotencyKey(ack, now);
                }

                // A worker whose lease was lost must never overwrite what happened to the job since.
                if (!_jobs.TryGetValue(ack.JobId, out var job) || job.State != JobState.Active || job.LeaseToken != ack.LeaseToken)
                {
                    continue;
                }

                applied++;
                released |= Acknowledge(job, ack, now);
            }

            if (released)
            {
                Signal();
            }
        }

        return applied;
    }

    /// <summary>Applies one acknowledgement; true when the job went back to pending.</summary>
    private bool Acknowledge(JobRecord job, JobAcknowledgement ack, DateTimeOffset now)
    {
        // A release or a snooze is not the job's failure: it records no error.
        if (ack.Outcome is not (AckOutcome.Released or AckOutcome.Snoozed))
        {
            // The items went wrong during the attempt, which ended with its error: that one is the job's last.
            foreach (var itemError in ack.ItemErrors)
            {
                job.AddError(itemError);
            }

            if (ack.Error is { } error)
            {
                job.AddError(error);
            }
        }

        // A job whose cancellation was requested must not run again, whichever way its attempt ended.
        var cancelRequested = job.CancelRequested;
        job.SnoozeReason = ack.Outcome == AckOutcome.Snoozed ? ack.SnoozeReason : null;
        switch (ack.Outcome)
        {
            case AckOutcome.Succeeded or AckOutcome.Partial:
                job.Progress = 100;
                job.Result = ack.Result?.ToArray();
                job.ResultUrl = ack.ResultUrl;
                MoveTo(job, ack.Outcome == AckOutcome.Succeeded ? JobState.Succeeded : JobState.Partial, now);
                return false;
            case AckOutcome.Retry when !cancelRequested:
                job.ScheduledAt = ack.RetryAt ?? now;
                MoveTo(job, JobState.Retrying, now);
                return false;
            case AckOutcome.Failed:
                MoveTo(job, JobState.Failed, now);
                return false;
            case AckOutcome.Released when !cancelRequested:
                // Shutdown is not the job's fault: the attempt does not count, and the job keeps its place. A job
                // whose handler ran waits from now; one that never started has waited all along.
                UncountAttempt(job);
                job.Progress = 0;
                if (ack.AttemptRan)
                {
                    job.PendingSince = now;
                }

                MoveTo(job, JobState.Pending, now, keepPlace: true);
                return true;
            case AckOutcome.Snoozed when !cancelRequested:
                // Waiting is not the job's fault either: the attempt does not count.
                UncountAttempt(job);
                job.ScheduledAt = ack.SnoozeUntil ?? now;
                MoveTo(job, JobState.Scheduled, now);
                return false;
            case AckOutcome.Released or AckOutcome.Snoozed:
                UncountAttempt(job);
                MoveTo(job, JobState.Cancelled, now);
                return false;
            default:
                MoveTo(job, JobState.Cancelled, now);
                return false;
        }
    }

    /// <summary>
    /// Takes back the attempt a hand-back does not count, and its start with it when no attempt is left: a job that
    /// never ran has no start. After an attempt that counted, the start stays the handed-back lease's (AckOutcome.Released).
    /// </summary>
    private static void UncountAttempt(JobRecord job)
    {
        job.Attempts = Math.Max(0, job.Attempts - 1);
        if (job.Attempts == 0)
        {
            job.StartedAt = null;
        }
    }

    /// <inheritdoc />
    public ValueTask<LeaseExtension> ExtendLeasesAsync(ExtendLeasesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        List<string>? lost = null;
        List<string>? cancelRequested = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var lease in request.Leases)
            {
                if (!_jobs.TryGetValue(lease.JobId, out var job) || job.State != JobState.Active || job.LeaseToken != lease.LeaseToken)
                {
                    (lost ??= []).Add(lease.JobId);
                    continue;
                }

                _leases.Remove(job.Entry!.Value);
                job.LeaseExpiresAt = now + request.LeaseDuration;
                job.Entry = new TimedEntry(job.LeaseExpiresAt, job.Sequence, job.Id);
                _leases.Add(job.Entry.Value);
                if (job.CancelRequested)
                {
                    (cancelRequested ??= []).Add(job.Id);
                }
            }
        }

        return ValueTask.FromResult(lost is null && cancelRequested is null
            ? LeaseExtension.None
            : new LeaseExtension(lost ?? [], cancelRequested ?? []));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        cancellationToken.ThrowIfCancellationRequested();
        var recovered = new List<RecoveredJob>();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var entry in TakeDue(_leases, now, limit, inclusive: false))
            {
                var job = _jobs[entry.JobId];
                job.AddError(new JobError(job.Attempts, LeaseMessages.Expired, null, null, now));
                var state = job.CancelRequested ? JobState.Cancelled
                    : job.Attempts > job.MaxRetry || job.Deadline <= now ? JobState.Failed
                    : JobState.Pending;
                if (state == JobState.Pending)
                {
                    // The next attempt starts from nothing, and runs next: the job was at the head when it was leased.
                    // It waits from now: the time its dead attempt held the lease is no queue wait.
                    job.Progress = 0;
                    job.PendingSince = now;
                }

                MoveTo(job, state, now, keepPlace: true);
                recovered.Add(new RecoveredJob(job.Id, job.Type, job.Queue, job.Tenant, state));
            }

            if (recovered.Exists(static r => r.NewState == JobState.Pending))
            {
                Signal();
            }
        }

        return ValueTask.FromResult<IReadOnlyList<RecoveredJob>>(recovered);
    }

    /// <inheritdoc />
    public ValueTask<int> PromoteDueAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var due = TakeDue(_due, now, limit, inclusive: true);
            foreach (var entry in due)
            {
                MoveTo(_jobs[entry.JobId], JobState.Pending, now);
            }

            if (due.Count > 0)
            {
                Signal();
            }

            return ValueTask.FromResult(due.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken)
    {
        var step = DueTimes.Step(resolution);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var times = new List<DateTimeOffset>();
            if (after >= before)
            {
                return ValueTask.FromResult<IReadOnlyList<DateTimeOffset>>(times);
            }

            foreach (var entry in _due.GetViewBetween(new TimedEntry(after, long.MaxValue, string.Empty), new TimedEntry(before, long.MinValue, string.Empty)))
            {
                var due = DueTimes.RoundUp(entry.At, step);
                if (entry.At <= after || entry.At >= before || (times.Count > 0 && times[^1] == due))
                {
                    continue;
                }

                if (times.Count == limit)
                {
                    break;
                }

                times.Add(due);
            }

            return ValueTask.FromResult<IReadOnlyList<DateTimeOffset>>(times);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> ReportProgressAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job) || job.State != JobState.Active || job.LeaseToken != leaseToken)
            {
                return ValueTask.FromResult(false);
            }

            job.Progress = Math.Clamp(progress, 0, 100);
            job.UpdatedAt = _time.GetUtcNow();
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> PurgeExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var expired = TakeDue(_retained, now, limit, inclusive: true);
            foreach (var entry in expired)
            {
                Remove(_jobs[entry.JobId]);
            }

            PurgeBatches(now);

            PurgeCoordination(now);
            return ValueTask.FromResult(expired.Count);
        }
    }
}
