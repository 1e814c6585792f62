using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Queues);

        // A signal that fires from here on must wake the next wait: this dequeue may not see its job.
        Volatile.Write(ref _seenGeneration, _signal.Generation);
        if (request.Limit <= 0 || request.Queues.Count == 0)
        {
            return [];
        }

        var leased = await WriteAsync(request, static (store, session, r) =>
            session.InTransaction((store, r), static (s, state) => state.store.LeaseJobs(s, state.r)), cancellationToken)
            .ConfigureAwait(false);
        NoteDequeueAfterWake(leased.Count);
        return leased;
    }

    /// <summary>The two passes of <see cref="DequeueRequest"/>, in the caller's transaction.</summary>
    private List<LeasedJob> LeaseJobs(SqliteSession session, DequeueRequest request)
    {
        var now = _timeProvider.GetUtcNow();
        var leaseExpiresAt = now + request.LeaseDuration;
        var command = session.Command(SqlStatement.Dequeue)
            .Bind("@now", UnixTime.ToMicroseconds(now))
            .Bind("@owner", request.ServerId)
            .Bind("@lease_expires_at", UnixTime.ToMicroseconds(leaseExpiresAt));
        var leased = new List<LeasedJob>(Math.Min(request.Limit, 256));
        var limits = request.ConcurrencyLimits.Count > 0 ? new LimitedDequeue(session, request, now, leaseExpiresAt) : null;
        var fair = request.FairQueues.Count > 0 ? new FairDequeue(session, request, now, leaseExpiresAt, limits) : null;

        // A queue that gave fewer jobs than asked is empty (or paused) for the rest of this transaction.
        Span<bool> exhausted = request.Queues.Count <= 64 ? stackalloc bool[request.Queues.Count] : new bool[request.Queues.Count];
        for (var i = 0; i < request.Queues.Count && leased.Count < request.Limit; i++)
        {
            var quota = request.Queues[i];
            var want = Math.Min(quota.Limit, request.Limit - leased.Count);
            if (want > 0)
            {
                exhausted[i] = (fair is not null && fair.IsFair(quota.Queue)
                    ? fair.Lease(quota.Queue, want, leased)
                    : limits is not null && limits.Limits(quota.Queue)
                    ? limits.Lease(quota.Queue, want, leased)
                    : LeaseFromQueue(command, quota.Queue, want, leaseExpiresAt, leased)) < want;
            }
        }

        for (var i = 0; i < request.Queues.Count && leased.Count < request.Limit; i++)
        {
            if (!exhausted[i])
            {
                var want = request.Limit - leased.Count;
                var queue = request.Queues[i].Queue;
                exhausted[i] = (fair is not null && fair.IsFair(queue)
                    ? fair.Lease(queue, want, leased)
                    : limits is not null && limits.Limits(queue)
                    ? limits.Lease(queue, want, leased)
                    : LeaseFromQueue(command, queue, want, leaseExpiresAt, leased)) < want;
            }
        }

        return leased;
    }

    private static int LeaseFromQueue(
        Microsoft.Data.Sqlite.SqliteCommand command, string queue, int limit, DateTimeOffset leaseExpiresAt, List<LeasedJob> leased)
    {
        command.Bind("@queue", queue).Bind("@limit", limit);
        var start = leased.Count;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                leased.Add(ReadLeased(reader, leaseExpiresAt));
            }
        }

        // RETURNING gives no order; the lease token is the pending_seq, the order the jobs became pending.
        var taken = leased.Count - start;
        if (taken > 1)
        {
            leased.Sort(start, taken, LeaseTokenOrder.Instance);
        }

        return taken;
    }

    private static LeasedJob ReadLeased(Microsoft.Data.Sqlite.SqliteDataReader reader, DateTimeOffset leaseExpiresAt) => new()
    {
        Id = reader.GetString(0),
        Type = reader.GetString(1),
        Queue = reader.GetString(2),
        Tenant = reader.GetString(3),
        Attempt = reader.GetInt32(4),
        MaxRetry = reader.GetInt32(5),
        Timeout = reader.GetNullableInt64(6) is { } timeout ? UnixTime.DurationFromMicroseconds(timeout) : null,
        Deadline = JobRecord.ReadTime(reader, 7),
        LeaseToken = reader.GetInt64(8),
        LeaseExpiresAt = leaseExpiresAt,
        TraceParent = reader.GetNullableString(9),
        CreatedAt = UnixTime.FromMicroseconds(reader.GetInt64(10)),
        EnqueuedAt = UnixTime.FromMicroseconds(reader.GetInt64(11)),
        Payload = reader.GetFieldValue<byte[]>(12),
        BatchId = reader.GetNullableString(13),
    };

    /// <inheritdoc />
    public ValueTask<LeaseExtension> ExtendLeasesAsync(ExtendLeasesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Leases.Count == 0)
        {
            return ValueTask.FromResult(LeaseExtension.None);
        }

        return WriteAsync(request, static (store, session, r) => session.InTransaction((store, r), static (s, state) =>
        {
            var expiresAt = UnixTime.ToMicroseconds(state.store._timeProvider.GetUtcNow() + state.r.LeaseDuration);
            var command = s.Command(SqlStatement.ExtendLease).Bind("@lease_expires_at", expiresAt);
            List<string>? lost = null;
            List<string>? cancelRequested = null;
            foreach (var lease in state.r.Leases)
            {
                using var reader = BindLease(command, lease.JobId, lease.LeaseToken).ExecuteReader();
                if (!reader.Read())
                {
                    (lost ??= []).Add(lease.JobId);
                }
                else if (reader.GetInt64(0) != 0)
                {
                    (cancelRequested ??= []).Add(lease.JobId);
                }
            }

            return lost is null && cancelRequested is null
                ? LeaseExtension.None
                : new LeaseExtension(lost ?? (IReadOnlyList<string>)[], cancelRequested ?? (IReadOnlyList<string>)[]);
        }), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        return ReadAsync(serverId, static (_, session, owner) =>
        {
            var leases = new List<LeaseRef>();
            using var reader = session.Command(SqlStatement.ListLeases).Bind("@owner", owner).ExecuteReader();
            while (reader.Read())
            {
                leases.Add(new LeaseRef(reader.GetString(0), reader.GetInt64(1)));
            }

            return (IReadOnlyList<LeaseRef>)leases;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return [];
        }

        var recovered = await WriteAsync(limit, static (store, session, max) => session.InTransaction((store, max), static (s, state) =>
        {
            var seqBase = ReadPendingSeq(s);
            var command = s.Command(SqlStatement.RecoverExpired)
                .Bind("@now", state.store.Now())
                .Bind("@limit", state.max)
                .Bind("@seq_base", seqBase)
                .Bind("@message", LeaseMessages.Expired);
            var jobs = new List<RecoveredJob>();
            var lastSeq = seqBase;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    jobs.Add(new RecoveredJob(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                        JobStateExtensions.FromStorageName(reader.GetString(4))));
                    lastSeq = Math.Max(lastSeq, -reader.GetInt64(5));
                }
            }

            if (lastSeq != seqBase)
            {
                AdvancePendingSeq(s, lastSeq);
            }

            if (jobs.Exists(static job => job.NewState != JobState.Pending))
            {
                state.store.FlowReleasedJobs(s);
            }

            return jobs;
        }), cancellationToken).ConfigureAwait(false);

        if (recovered.Exists(static job => job.NewState == JobState.Pending))
        {
            _signal.Fire();
        }

        WakeIfFlowReleased();

        return recovered;
    }

    /// <inheritdoc />
    public async ValueTask<int> PromoteDueAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return 0;
        }

        var promoted = await WriteAsync(limit, static (store, session, max) => session.InTransaction((store, max), static (s, state) =>
        {
            var seqBase = ReadPendingSeq(s);
            var count = s.Command(SqlStatement.PromoteDue)
                .Bind("@now", state.store.Now())
                .Bind("@limit", state.max)
                .Bind("@seq_base", seqBase)
                .ExecuteNonQuery();
            if (count > 0)
            {
                AdvancePendingSeq(s, seqBase + count);
            }

            return count;
        }), cancellationToken).ConfigureAwait(false);

        if (promoted > 0)
        {
            _signal.Fire();
        }

        return promoted;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, TimeSpan.FromMicroseconds(1));
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var range = (after: UnixTime.ToMicroseconds(after), before: UnixTime.ToMicroseconds(before), step: UnixTime.ToMicroseconds(resolution), limit);
        return ReadAsync(range, static (_, session, state) =>
        {
            var times = new List<DateTimeOffset>();
            using var reader = session.Command(SqlStatement.ListDueTimes)
                .Bind("@after", state.after)
                .Bind("@before", state.before)
                .Bind("@step", state.step)
                .Bind("@limit", state.limit)
                .ExecuteReader();
            while (reader.Read())
            {
                times.Add(UnixTime.FromMicroseconds(reader.GetInt64(0)));
            }

            return (IReadOnlyList<DateTimeOffset>)times;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> ReportProgressAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentOutOfRangeException.ThrowIfNegative(progress);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100);
        return WriteAsync((jobId, leaseToken, progress), static (store, session, p) =>
            BindLease(session.Command(SqlStatement.ReportProgress), p.jobId, p.leaseToken)
                .Bind("@progress", p.progress)
                .Bind("@now", store.Now())
                .ExecuteNonQuery() == 1, cancellationToken);
    }

    private sealed class LeaseTokenOrder : IComparer<LeasedJob>
    {
        public static readonly LeaseTokenOrder Instance = new();

        public int Compare(LeasedJob? x, LeasedJob? y) => x!.LeaseToken.CompareTo(y!.LeaseToken);
    }
}
