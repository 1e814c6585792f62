using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

/// <summary>
/// Continuations and batches. A job that waits is inserted in state 'waiting' with its unresolved dependencies in
/// job_dependencies; the triggers of migrations 0011 to 0018 resolve them inside whatever statement finishes a dependency, so
/// the release (or the cancellation of everything downstream, 0018) is part of that statement's transaction.
/// </summary>
public sealed partial class SqliteJobStore
{
    private const string FindDependencyJobSql = "SELECT seq, state FROM jobs WHERE id = @id AND tenant = @tenant;";

    // A finished batch succeeded when it ended 'succeeded': one cancelled as a whole keeps 'cancelled' (0023).
    private const string FindDependencyBatchSql =
        "SELECT finished_at IS NOT NULL, state = 'succeeded', state FROM batches WHERE id = @id AND tenant = @tenant;";

    private const string InsertFlowJobSql = """
        INSERT INTO jobs (id, type, queue, tenant, state, max_retry, timeout_us, deadline, scheduled_at, unique_key,
                          unique_until, retention_us, failed_retention_us, cancelled_retention_us, trace_parent, created_at,
                          updated_at, enqueued_at, pending_seq, payload, flow, waiting_for, batch_id, depends_on)
        VALUES (@id, @type, @queue, @tenant, @state, @max_retry, @timeout_us, @deadline, @scheduled_at, @unique_key,
                @unique_until, @retention_us, @failed_retention_us, @cancelled_retention_us, @trace_parent, @now,
                @now, @enqueued_at, @pending_seq, @payload, @flow, @waiting_for, @batch_id, @depends_on)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string LinkDependencySql = """
        INSERT OR IGNORE INTO job_dependencies (dependency, on_batch, dependant_seq, success_only, fail_if_unmet)
        VALUES (@dependency, @on_batch, (SELECT seq FROM jobs WHERE id = @dependant), @success_only, @fail_if_unmet);
        """;

    private const string ReadFlowReleasedSql = "SELECT value FROM counters WHERE name = 'flow_released';";

    /// <summary>The last counters.flow_released this instance saw; read and written under the write lock.</summary>
    private long _flowReleased;

    private const string MarkFlowSql = "UPDATE jobs SET flow = 1 WHERE seq = @seq;";

    private const string CountInBatchSql = "UPDATE batches SET total = total + @count, updated_at = @now WHERE id = @id;";

    // A batch that has finished or was cancelled takes no new member, as AddToBatchAsync adds to none.
    private const string BatchRunsSql = "SELECT 1 FROM batches WHERE id = @id AND tenant = @tenant AND state = 'running';";

    private const string CancelAtEnqueueSql = """
        UPDATE jobs
        SET state = 'cancelled', completed_at = @now, updated_at = @now,
            expires_at = @now + COALESCE(cancelled_retention_us, retention_us),
            errors = errors || json_object('attempt', 0, 'message', @message, 'exceptionType', NULL, 'item', NULL,
                                           'occurredAt', @now) || char(10)
        WHERE id = @id;
        """;

    private const string FailAtEnqueueSql = """
        UPDATE jobs
        SET state = 'failed', completed_at = @now, updated_at = @now,
            expires_at = @now + COALESCE(failed_retention_us, retention_us),
            errors = errors || json_object('attempt', 0, 'message', @message, 'exceptionType', NULL, 'item', NULL,
                                           'occurredAt', @now) || char(10)
        WHERE id = @id;
        """;

    private const string InsertBatchSql = """
        INSERT INTO batches (id, tenant, state, retention_us, created_at, updated_at, workflow)
        VALUES (@id, @tenant, 'running', @retention_us, @now, @now, @workflow)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string GetBatchSql = """
        SELECT id, tenant, state, total, succeeded, failed, cancelled, created_at, updated_at, finished_at, workflow
        FROM batches WHERE id = @id AND tenant = @tenant;
        """;

    private const string CancelBatchSql =
        "UPDATE batches SET state = 'cancelled', updated_at = @now WHERE id = @id AND tenant = @tenant AND state = 'running';";

    // Each member says why it ended (@message). SQLite picks the rows before any trigger fires: a waiting member whose
    // dependency, an earlier row, is cancelled here is ended by that cascade first, with its own line, and keeps it.
    private const string CancelBatchMembersSql = """
        UPDATE jobs
        SET errors = CASE WHEN state IN ('waiting', 'scheduled', 'pending', 'retrying')
                          THEN errors || json_object('attempt', attempts, 'message', @message, 'exceptionType', NULL, 'item', NULL,
                                                     'occurredAt', @now) || char(10)
                          ELSE errors END,
            state = 'cancelled', updated_at = @now, completed_at = @now,
            expires_at = @now + COALESCE(cancelled_retention_us, retention_us)
        WHERE batch_id = @id AND state IN ('waiting', 'scheduled', 'pending', 'retrying');
        """;

    private const string RequestCancelBatchMembersSql =
        "UPDATE jobs SET cancel_requested = 1, updated_at = @now WHERE batch_id = @id AND state = 'active';";

    /// <inheritdoc />
    public async ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        if (!jobs.Any(j => j?.BatchId == batch.Id))
        {
            throw new ArgumentException("A batch needs at least one job.", nameof(jobs));
        }

        var result = await EnqueueInBatchAsync(jobs, session =>
        {
            var inserted = session.Command(InsertBatchSql)
                .Bind("@id", batch.Id)
                .Bind("@tenant", batch.Tenant)
                .Bind("@retention_us", UnixTime.ToMicroseconds(batch.Retention))
                .Bind("@now", Now())
                .Bind("@workflow", batch.Workflow is { } workflow ? WorkflowJson.Encode(workflow) : null)
                .ExecuteNonQuery();
            return inserted == 1 ? true : throw new ArgumentException($"A batch with id '{batch.Id}' exists.", nameof(batch));
        }, cancellationToken).ConfigureAwait(false);
        return result!;
    }

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return EnqueueInBatchAsync(jobs, session => ReadBatch(session, batchId, tenant) is { State: BatchState.Running }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken) =>
        WriteAsync((batchId, tenant), static (_, session, key) => ReadBatch(session, key.batchId, key.tenant), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        var (cancelled, released) = await WriteAsync((batchId, tenant), static (store, session, key) => session.InTransaction((store, key), static (s, state) =>
        {
            var now = state.store.Now();
            if (s.Command(CancelBatchSql).Bind("@id", state.key.batchId).Bind("@tenant", state.key.tenant).Bind("@now", now).ExecuteNonQuery() == 0)
            {
                return (false, false);
            }

            s.Command(RequestCancelBatchMembersSql).Bind("@id", state.key.batchId).Bind("@now", now).ExecuteNonQuery();
            s.Command(CancelBatchMembersSql).Bind("@id", state.key.batchId).Bind("@now", now)
                .Bind("@message", WorkflowMessages.BatchCancelled(state.key.batchId)).ExecuteNonQuery();
            return (true, state.store.FlowReleasedJobs(s));
        }), cancellationToken).ConfigureAwait(false);
        if (released)
        {
            _signal.Fire();
        }

        return cancelled;
    }

    /// <summary>
    /// One transaction: <paramref name="open"/> creates or checks the batch (false: nothing is written, null is
    /// returned), then the jobs are inserted all or none.
    /// </summary>
    private async ValueTask<EnqueueAllResult?> EnqueueInBatchAsync(IReadOnlyList<NewJob> jobs, Func<SqliteSession, bool> open, CancellationToken cancellationToken)
    {
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, _timeProvider.GetUtcNow()) is { } repeated)
        {
            return repeated;
        }

        var (result, anyPending) = await WriteAsync((jobs, open), static (store, session, state) =>
        {
            session.Begin();
            try
            {
                if (!state.open(session))
                {
                    session.RollbackQuietly();
                    return ((EnqueueAllResult?)null, false);
                }

                var (results, anyPending) = store.InsertJobs(session, state.jobs, allOrNone: true);
                for (var i = 0; i < results.Length; i++)
                {
                    if (results[i].IsDuplicate)
                    {
                        session.RollbackQuietly();
                        return (EnqueueAllResult.Refused(i, results[i]), false);
                    }
                }

                session.Commit();
                return (EnqueueAllResult.Stored(results), anyPending);
            }
            catch
            {
                session.RollbackQuietly();
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (anyPending)
        {
            _signal.Fire();
        }

        return result;
    }

    /// <summary>
    /// True when the workflow triggers made a job pending since the last look (in a statement of this transaction): the
    /// caller then wakes this process's workers. One read of one row per write transaction that can finish jobs.
    /// </summary>
    private bool FlowReleasedJobs(SqliteSession session)
    {
        using var reader = session.Command(ReadFlowReleasedSql).ExecuteReader();
        var released = reader.Read() ? reader.GetInt64(0) : 0;
        if (released == _flowReleased)
        {
            return false;
        }

        _flowReleased = released;
        Volatile.Write(ref _flowWake, 1);
        return true;
    }

    /// <summary>Set by <see cref="FlowReleasedJobs"/>; taken by <see cref="WakeIfFlowReleased"/> after the write.</summary>
    private int _flowWake;

    /// <summary>Wakes this process's workers when a write (a cancel, a delete, a recovery) released waiting jobs.</summary>
    private void WakeIfFlowReleased()
    {
        if (Interlocked.Exchange(ref _flowWake, 0) == 1)
        {
            _signal.Fire();
        }
    }

    private static BatchInfo? ReadBatch(SqliteSession session, string batchId, string tenant)
    {
        using var reader = session.Command(GetBatchSql).Bind("@id", batchId).Bind("@tenant", tenant).ExecuteReader();
        return reader.Read() ? ReadBatchRow(reader) : null;
    }

    /// <summary>A batch row in the column order of <see cref="GetBatchSql"/> (the listing reads the same columns).</summary>
    private static BatchInfo ReadBatchRow(Microsoft.Data.Sqlite.SqliteDataReader reader) =>
        new()
        {
            Id = reader.GetString(0),
            Tenant = reader.GetString(1),
            State = BatchStateExtensions.FromStorageName(reader.GetString(2)),
            Total = reader.GetInt32(3),
            Succeeded = reader.GetInt32(4),
            Failed = reader.GetInt32(5),
            Cancelled = reader.GetInt32(6),
            CreatedAt = UnixTime.FromMicroseconds(reader.GetInt64(7)),
            UpdatedAt = UnixTime.FromMicroseconds(reader.GetInt64(8)),
            FinishedAt = JobRecord.ReadTime(reader, 9),
            Workflow = reader.GetNullableString(10) is { } workflow ? WorkflowJson.Decode(workflow) : null,
        };

    /// <summary>
    /// Inserts a job that waits or belongs to a batch, inside the caller's write transaction: refused as any enqueue,
    /// or when a dependency or its batch does not exist in its tenant (or the batch no longer runs); otherwise stored waiting and linked to its
    /// unfinished dependencies, or, when every dependency has finished, stored as released (or cancelled).
    /// </summary>
    private EnqueueResult InsertFlowJob(SqliteSession session, NewJob job, DateTimeOffset now, FlowEnqueue flow)
    {
        var nowMicros = UnixTime.ToMicroseconds(now);
        if (FindJob(session, SqlStatement.FindJobById, job, nowMicros) is { } sameId)
        {
            return sameId with { Outcome = EnqueueOutcome.DuplicateId };
        }

        if (job.UniqueKey is not null && FindJob(session, SqlStatement.FindUniqueHolder, job, nowMicros) is { } holder)
        {
            return holder;
        }

        if (job.BatchId is { } batchId && !flow.BatchRuns(session, batchId, job.Tenant))
        {
            return new EnqueueResult(EnqueueOutcome.DependencyNotFound, batchId, JobState.Waiting, job.Queue, now);
        }

        var unfinished = new List<(JobDependency Dependency, long? Seq)>();
        JobDependency? failed = null;
        foreach (var dependency in job.DependsOn)
        {
            if (dependency.OnBatch)
            {
                // A batch's totals are read: the members counted so far in this list must be in them.
                flow.CountInBatches(session, nowMicros);
            }

            var command = session.Command(dependency.OnBatch ? FindDependencyBatchSql : FindDependencyJobSql)
                .Bind("@id", dependency.Id)
                .Bind("@tenant", job.Tenant);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return new EnqueueResult(EnqueueOutcome.DependencyNotFound, dependency.Id, JobState.Waiting, job.Queue, now);
            }

            bool finished, succeeded;
            long? seq = null;
            if (dependency.OnBatch)
            {
                finished = reader.GetInt64(0) != 0;
                succeeded = reader.GetInt64(1) != 0;
            }
            else
            {
                seq = reader.GetInt64(0);
                var dependencyState = JobStateExtensions.FromStorageName(reader.GetString(1));
                finished = dependencyState.IsFinished();
                succeeded = dependencyState is JobState.Succeeded or JobState.Partial;
            }

            if (!finished)
            {
                unfinished.Add((dependency, seq));
            }
            else if (dependency.SuccessOnly && !succeeded)
            {
                failed ??= dependency;
            }
        }

        var waits = job.DependsOn.Count > 0 && (unfinished.Count > 0 || failed is not null);
        var scheduled = !waits && job.ProcessAt is { } processAt && processAt > now;
        long? pendingSeq = null;
        if (!waits && !scheduled)
        {
            pendingSeq = ReadPendingSeq(session) + 1;
            AdvancePendingSeq(session, pendingSeq.Value);
        }

        var state = waits ? JobState.Waiting : scheduled ? JobState.Scheduled : JobState.Pending;
        session.Command(InsertFlowJobSql)
            .Bind("@id", job.Id)
            .Bind("@type", job.Type)
            .Bind("@queue", job.Queue)
            .Bind("@tenant", job.Tenant)
            .Bind("@state", state.ToStorageName())
            .Bind("@payload", job.Payload.ToBindableArray())
            .Bind("@max_retry", job.MaxRetry)
            .Bind("@timeout_us", UnixTime.ToDbValue(job.Timeout))
            .Bind("@deadline", UnixTime.ToDbValue(job.Deadline))
            .Bind("@scheduled_at", UnixTime.ToDbValue(job.ProcessAt))
            .Bind("@unique_key", job.UniqueKey)
            .Bind("@unique_until", UnixTime.ToDbValue(job.UniqueUntil))
            .Bind("@retention_us", UnixTime.ToMicroseconds(job.Retention))
            .Bind("@failed_retention_us", UnixTime.ToDbValue(job.FailedRetention))
            .Bind("@cancelled_retention_us", UnixTime.ToDbValue(job.CancelledRetention))
            .Bind("@trace_parent", job.TraceParent)
            .Bind("@now", nowMicros)
            .Bind("@enqueued_at", pendingSeq is null ? null : nowMicros)
            .Bind("@pending_seq", pendingSeq)
            .Bind("@flow", job.BatchId is null ? 0 : 1)
            .Bind("@waiting_for", failed is null ? unfinished.Count : 0)
            .Bind("@batch_id", job.BatchId)
            .Bind("@depends_on", job.DependsOn.Count > 0 ? DependencyJson.Encode(job.DependsOn) : null)
            .ExecuteNonQuery();

        if (job.BatchId is { } member && !flow.MembersCounted)
        {
            flow.Count(member);
        }

        if (failed is not null)
        {
            // The batch must count this job before the cancel below counts it as finished, as it would one by one.
            flow.CountInBatches(session, nowMicros);
            // A finished dependency that did not succeed: cancelled (or failed, by the link's policy) at once, counted
            // in its batch by the triggers.
            var fails = failed.FailsDependant;
            session.Command(fails ? FailAtEnqueueSql : CancelAtEnqueueSql)
                .Bind("@id", job.Id)
                .Bind("@now", nowMicros)
                .Bind("@message", fails ? WorkflowMessages.DependencyFailed(failed.Id) : WorkflowMessages.DependencyDidNotSucceed(failed.Id))
                .ExecuteNonQuery();
            return new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, fails ? JobState.Failed : JobState.Cancelled, job.Queue, now);
        }

        foreach (var (dependency, seq) in unfinished)
        {
            session.Command(LinkDependencySql)
                .Bind("@dependency", dependency.Id)
                .Bind("@on_batch", dependency.OnBatch ? 1 : 0)
                .Bind("@dependant", job.Id)
                .Bind("@success_only", dependency.SuccessOnly ? 1 : 0)
                .Bind("@fail_if_unmet", dependency.FailsDependant ? 1 : 0)
                .ExecuteNonQuery();
            if (seq is { } dependencySeq && flow.Mark(dependencySeq))
            {
                session.Command(MarkFlowSql).Bind("@seq", dependencySeq).ExecuteNonQuery();
            }
        }

        return new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, state, job.Queue, now);
    }

    /// <summary>
    /// What one list of workflow jobs stored in one transaction has learnt so far, so that a 1,000-step workflow costs
    /// a few statements per step: the batches found (checked once, without reading their workflow definition), the
    /// dependencies already marked, and the members not yet added to their batch's total (one UPDATE per batch,
    /// made before anything reads a batch's totals or finishes a job, and at the end of the list).
    /// </summary>
    private sealed class FlowEnqueue
    {
        private readonly HashSet<(string Id, string Tenant)> _batches = [];
        private readonly HashSet<long> _marked = [];
        private readonly Dictionary<string, int> _uncounted = new(StringComparer.Ordinal);

        /// <summary>True when every member of the list was counted in its batch before the first was stored.</summary>
        public bool MembersCounted { get; private init; }

        /// <summary>
        /// For a list stored all or none: every member counted in its batch's total before the first is stored (a batch
        /// that does not exist in the member's tenant changes nothing here; its member is refused, and the list with it).
        /// Null when the list has no member.
        /// </summary>
        public static FlowEnqueue? WithMembersCounted(SqliteSession session, IReadOnlyList<NewJob> jobs, long nowMicros)
        {
            FlowEnqueue? flow = null;
            foreach (var job in jobs)
            {
                if (job.BatchId is { } batchId)
                {
                    (flow ??= new FlowEnqueue { MembersCounted = true }).Count(batchId);
                }
            }

            flow?.CountInBatches(session, nowMicros);
            return flow;
        }

        public bool BatchRuns(SqliteSession session, string batchId, string tenant)
        {
            if (_batches.Contains((batchId, tenant)))
            {
                return true;
            }

            using var reader = session.Command(BatchRunsSql).Bind("@id", batchId).Bind("@tenant", tenant).ExecuteReader();
            if (!reader.Read())
            {
                return false;
            }

            _batches.Add((batchId, tenant));
            return true;
        }

        /// <summary>True the first time a dependency's seq is seen: its flow flag is then set once.</summary>
        public bool Mark(long seq) => _marked.Add(seq);

        public void Count(string batchId) => _uncounted[batchId] = _uncounted.GetValueOrDefault(batchId) + 1;

        /// <summary>Adds the members counted so far to their batches' totals.</summary>
        public void CountInBatches(SqliteSession session, long nowMicros)
        {
            if (_uncounted.Count == 0)
            {
                return;
            }

            foreach (var (batchId, count) in _uncounted)
            {
                session.Command(CountInBatchSql).Bind("@id", batchId).Bind("@count", count).Bind("@now", nowMicros).ExecuteNonQuery();
            }

            _uncounted.Clear();
        }
    }
}
