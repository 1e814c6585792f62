using Conveyor.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

/// <summary>
/// Continuations and batches. A job that waits is inserted in state 'waiting' by the ordinary enqueue statement and
/// linked to what it waits for in the same transaction by flow_link_in_order() (migration 0024), which locks what the
/// jobs wait for in one order first and links the whole list with a few statements when no job of it ends as it is
/// linked, or else job by job through flow_link(); the statement trigger of migration 0023 resolves the links inside
/// whatever statement finishes a dependency.
/// </summary>
public sealed partial class PostgresJobStore
{
    // $1 ids text[], $2 depends_on jsonb[], $3 batch ids text[], $4 now. One row per job: ord, state, missing.
    private const string LinkTemplate = """SELECT ord, state, missing FROM :"schema".flow_link_in_order($1, $2, $3, $4)""";

    // $1 id, $2 tenant, $3 retention, $4 now, $5 workflow definition (WorkflowJson) or null. One row when created.
    private const string CreateBatchTemplate = """
        INSERT INTO :"schema".batches (id, tenant, state, retention, created_at, updated_at, workflow)
        VALUES ($1, $2, 'running', $3, $4, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING 1
        """;

    // $1 id, $2 tenant. Locks a running batch until the jobs added to it are linked.
    private const string LockRunningBatchTemplate = """
        SELECT 1 FROM :"schema".batches WHERE id = $1 AND tenant = $2 AND state = 'running' AND finished_at IS NULL FOR UPDATE
        """;

    // $1 id, $2 tenant.
    private const string GetBatchTemplate = """
        SELECT id, tenant, state, total, succeeded, failed, cancelled, created_at, updated_at, finished_at, workflow
        FROM :"schema".batches WHERE id = $1 AND tenant = $2
        """;

    // The batch becomes cancelled, its running members are asked to stop (NOTIFY on the cancel channel), its other
    // unfinished members are cancelled with an error line saying so (counted, and its callbacks resolved, by the
    // trigger). $1 id, $2 tenant, $3 now, $4 cancel channel, $5 the error line. Returns whether the batch was running.
    // One update does both, choosing by the row it writes: a member pending in the statement's snapshot that a worker
    // starts meanwhile is written once that start commits, as the running member it has become (two updates, one for
    // each state, both skipped it: the one for pending members found it running, the other had not seen it running).
    // Adds to the batch are waited for and kept out before (AwaitBatchAddsTemplate: a share lock, which no
    // acknowledgement waits for). The running members are locked first, by id, then the batch (the subquery in its
    // WHERE runs before its row is locked), then the members the statement cancels: the order of an acknowledgement,
    // which takes the member it finishes, its batch, then what waited for that member. Taking the batch first deadlocked with the batch's last
    // acknowledgements; taking every member first, with a workflow step's acknowledgement over the step after it. What
    // takes a waiting member before its batch (a cancel or delete of that one job, an add to the batch whose jobs wait
    // for its members, which locks the batch first), or a member that starts and finishes while the statement runs, can
    // still meet it in a cycle: PostgreSQL breaks it, and the side it rolls back runs again.
    private const string CancelBatchTemplate = """
        WITH members AS (
            SELECT j.id FROM :"schema".jobs j
            WHERE j.batch_id = $1 AND j.tenant = $2 AND j.state = 'active'
            ORDER BY j.id
            FOR NO KEY UPDATE
        ), batch AS (
            UPDATE :"schema".batches SET state = 'cancelled', updated_at = $3
            WHERE id = $1 AND tenant = $2 AND state = 'running' AND (SELECT count(*) FROM members) >= 0
            RETURNING id
        ), ended AS (
            UPDATE :"schema".jobs j SET cancel_requested = j.cancel_requested OR j.state = 'active', updated_at = $3,
                state = CASE WHEN j.state = 'active' THEN j.state ELSE 'cancelled' END,
                completed_at = CASE WHEN j.state = 'active' THEN j.completed_at ELSE $3 END,
                unique_held = j.unique_held AND j.state = 'active',
                expires_at = CASE WHEN j.state = 'active' THEN j.expires_at ELSE $3 + coalesce(j.cancelled_retention, j.retention) END,
                errors = CASE WHEN j.state = 'active' THEN j.errors ELSE j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempts, 'message', $5::text, 'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char($3 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))) END
            FROM batch b
            WHERE j.batch_id = b.id AND j.state IN ('active', 'waiting', 'scheduled', 'pending', 'retrying')
            RETURNING j.id, j.state
        ), requested AS (
            SELECT e.id FROM ended e WHERE e.state = 'active'
        ), notified AS (
            SELECT pg_notify($4, r.id) FROM requested r
        )
        SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM notified), coalesce((SELECT array_agg(id) FROM requested), '{}')
        """;

    private string LinkSql => field ??= Sql(LinkTemplate);

    private string CreateBatchSql => field ??= Sql(CreateBatchTemplate);

    private string LockRunningBatchSql => field ??= Sql(LockRunningBatchTemplate);

    private string GetBatchSql => field ??= Sql(GetBatchTemplate);

    private string CancelBatchSql => field ??= Sql(CancelBatchTemplate);

    // Before the cancel's statement takes its snapshot, its transaction waits for whatever holds the batch's row to add
    // members to it (an add, or a job naming its batch, lock it FOR UPDATE until they commit), and keeps those out
    // until it commits: FOR KEY SHARE conflicts with their lock, not with the update an acknowledgement makes to count
    // a member. Without it the statement's snapshot could be taken before an add that checked the batch still ran
    // committed: the cancel then answered with the add counted in the batch but its job left pending, and a worker
    // could run it to success before CancelLateMembersSql, after the commit, cancelled it (an outside run: 6 races in
    // 100).
    // $1 id, $2 tenant.
    private const string AwaitBatchAddsTemplate = """
        SELECT 1 FROM :"schema".batches WHERE id = $1 AND tenant = $2 FOR KEY SHARE
        """;

    private string AwaitBatchAddsSql => field ??= Sql(AwaitBatchAddsTemplate);

    // Run once more after the cancel committed, for any member its statement did not see. Running members already
    // asked are not asked again.
    private string CancelLateMembersSql => field ??= Sql(CancelBatchTemplate
        .Replace("UPDATE :\"schema\".batches SET state = 'cancelled', updated_at = $3", "SELECT id FROM :\"schema\".batches", StringComparison.Ordinal)
        .Replace("AND state = 'running' AND (SELECT count(*) FROM members)", "AND state = 'cancelled' AND (SELECT count(*) FROM members)", StringComparison.Ordinal)
        .Replace("RETURNING id\n", "\n", StringComparison.Ordinal)
        .Replace("WHERE j.batch_id = b.id AND j.state IN (", "WHERE j.batch_id = b.id AND NOT (j.state = 'active' AND j.cancel_requested) AND j.state IN (", StringComparison.Ordinal));

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => CreateBatchCoreAsync(batch, jobs, token), cancellationToken);

    private async ValueTask<EnqueueAllResult> CreateBatchCoreAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        if (!jobs.Any(j => j?.BatchId == batch.Id))
        {
            throw new ArgumentException("A batch needs at least one job.", nameof(jobs));
        }

        var result = await EnqueueInBatchAsync(jobs, (connection, transaction, now) => InsertBatchAsync(connection, transaction, batch, now, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        return result!;
    }

    /// <summary>
    /// <see cref="CreateBatchAsync(NewBatch, IReadOnlyList{NewJob}, CancellationToken)"/> inside the caller's transaction
    /// (under a savepoint, so that a refusal leaves it usable), or a transaction of its own when none is given: the batch
    /// and its jobs exist if and only if that transaction commits. The NOTIFY that wakes the workers is sent at the
    /// commit, by PostgreSQL.
    /// </summary>
    internal async Task<EnqueueAllResult> CreateBatchAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, Now()) is { } repeated)
        {
            return repeated;
        }

        try
        {
            // The caller commits, so this store cannot wake its own workers itself: the NOTIFY carries no echo mark.
            return await EnqueueAllOrNoneOnAsync(connection, transaction, jobs, echoMark: string.Empty, cancellationToken,
                before: (c, t, now) => InsertBatchAsync(c, t, batch, now, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsUnavailableOnCallersConnection(exception))
        {
            throw Wrap(exception);
        }
    }

    /// <summary>The batch's record; an <see cref="ArgumentException"/> when its id is taken.</summary>
    private async Task<bool> InsertBatchAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewBatch batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(CreateBatchSql, connection, transaction);
        command.Parameters.Add(Text(batch.Id));
        command.Parameters.Add(Text(batch.Tenant));
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Retention, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(TimestampTz(now));
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Workflow is { } workflow ? WorkflowJson.Encode(workflow) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null
            ? true
            : throw new ArgumentException($"A batch with id '{batch.Id}' exists.", nameof(batch));
    }

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => AddToBatchCoreAsync(batchId, tenant, jobs, token), cancellationToken);

    private ValueTask<EnqueueAllResult?> AddToBatchCoreAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return EnqueueInBatchAsync(jobs, async (connection, transaction, _) =>
        {
            await using var command = new NpgsqlCommand(LockRunningBatchSql, connection, transaction);
            command.Parameters.Add(Text(batchId));
            command.Parameters.Add(Text(tenant));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => GetBatchCoreAsync(batchId, tenant, token), cancellationToken);

    private async ValueTask<BatchInfo?> GetBatchCoreAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(GetBatchSql);
            command.Parameters.Add(Text(batchId));
            command.Parameters.Add(Text(tenant));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadBatchRow(reader) : null;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    // A workflow's step acknowledged meanwhile locks the step, its batch, then the step after it, which the cancel locked
    // among the members: PostgreSQL may break that cycle by rolling the cancel back, whole, so it runs again.
    public ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => CancelBatchCoreAsync(batchId, tenant, token), cancellationToken);

    private async ValueTask<bool> CancelBatchCoreAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        if (!await RunAgainAfterConflictsAsync(() => CancelBatchOnceAsync(CancelBatchSql, batchId, tenant, cancellationToken), cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await RunAgainAfterConflictsAsync(() => CancelBatchOnceAsync(CancelLateMembersSql, batchId, tenant, cancellationToken), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="once"/>, a statement or a transaction of the store's own, up to five times while
    /// PostgreSQL rolls it back for a deadlock or a serialization failure (it was undone whole, so running it again is
    /// safe), after a short random pause so that the sides of a cycle do not meet again at once; any other failure to
    /// answer is the store's fault, as for every call. A batch's cancel and bulk commands over its members lock rows in
    /// orders that can cross (see CancelBatchTemplate), and now take turns (TakeBatchTurnsTemplate) so that they do not.
    /// Inside an ambient TransactionScope the connection enlists in the caller's transaction, which the rollback
    /// aborted whole: nothing runs again there, and the conflict is the caller's fault to handle.
    /// </summary>
    private async ValueTask<T> RunAgainAfterConflictsAsync<T>(Func<ValueTask<T>> once, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await once().ConfigureAwait(false);
            }
            catch (PostgresException conflict) when (PostgresFaults.IsConflict(conflict.SqlState) && attempt < 5 && System.Transactions.Transaction.Current is null)
            {
                // Real time, as the reconnect's: it paces real round trips, and a fake clock in a test would never end it.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (IsUnavailable(exception))
            {
                throw Fault(exception);
            }
        }
    }

    // A batch's turn: the key of the advisory lock that its cancel holds whole and a command on its members shares
    // (TakeBatchTurnsTemplate), from the schema and the batch id. Servers of one store must agree on it.
    private const string BatchTurnKeyPrefix = "conveyor.batch-cancel:";

    // The implicit transaction of a batch's cancel holds this until it ends. $1 the schema, $2 the batch id.
    private const string CancelBatchLock = "SELECT pg_advisory_xact_lock(hashtextextended('" + BatchTurnKeyPrefix + "' || $1 || ':' || $2, 0))";

    private async ValueTask<bool> CancelBatchOnceAsync(string sql, string batchId, string tenant, CancellationToken cancellationToken)
    {
        // Two cancels of one batch (a user's and an operator's) take one after the other: each locks the members it
        // saw running, and members that started or ended between their snapshots made them lock in orders that met in
        // a deadlock (found by the fuzzer: identical cancels, each waiting a second for PostgreSQL to break it).
        await using var batch = _dataSource.CreateBatch();
        var serialize = new NpgsqlBatchCommand(CancelBatchLock);
        serialize.Parameters.Add(Text(_options.Schema));
        serialize.Parameters.Add(Text(batchId));
        batch.BatchCommands.Add(serialize);
        var awaitAdds = new NpgsqlBatchCommand(AwaitBatchAddsSql);
        awaitAdds.Parameters.Add(Text(batchId));
        awaitAdds.Parameters.Add(Text(tenant));
        batch.BatchCommands.Add(awaitAdds);
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(Text(batchId));
        command.Parameters.Add(Text(tenant));
        command.Parameters.Add(TimestampTz(Now()));
        command.Parameters.Add(Text(_cancelChannel));
        command.Parameters.Add(Text(WorkflowMessages.BatchCancelled(batchId)));
        batch.BatchCommands.Add(command);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var cancelled = reader.GetInt64(0) > 0;
        foreach (var jobId in reader.GetFieldValue<string[]>(2))
        {
            // This process's own handlers hear it at once; others through the NOTIFY.
            _notifier.PublishCancellation(jobId);
        }

        return cancelled;
    }

    /// <summary>
    /// One transaction: <paramref name="open"/> creates or locks the batch (false: nothing is written, null is
    /// returned), then the jobs are stored all or none. It locks the batch before the jobs its new jobs wait for, where
    /// an acknowledgement or a cancel locks a member before its batch: when PostgreSQL breaks such a cycle by rolling
    /// this transaction back, it runs again.
    /// </summary>
    private ValueTask<EnqueueAllResult?> EnqueueInBatchAsync(
        IReadOnlyList<NewJob> jobs,
        Func<NpgsqlConnection, NpgsqlTransaction, DateTimeOffset, Task<bool>> open,
        CancellationToken cancellationToken) =>
        EnqueueAllResult.RefuseRepeatsWithinList(jobs, Now()) is { } repeated
            ? ValueTask.FromResult<EnqueueAllResult?>(repeated)
            : RunAgainAfterConflictsAsync(() => EnqueueInBatchOnceAsync(jobs, open, cancellationToken));

    private async ValueTask<EnqueueAllResult?> EnqueueInBatchOnceAsync(
        IReadOnlyList<NewJob> jobs,
        Func<NpgsqlConnection, NpgsqlTransaction, DateTimeOffset, Task<bool>> open,
        CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await open(connection, transaction, Now()).ConfigureAwait(false))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        var result = jobs.Count == 0
            ? EnqueueAllResult.Stored([])
            : await InsertAllOrNoneAsync(connection, transaction, jobs, _notifier.EchoMark, cancellationToken).ConfigureAwait(false);
        if (!result.AllStored)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Results.Any(static r => r.State == JobState.Pending))
        {
            _signal.Set();
        }

        return result;
    }

    /// <summary>
    /// Links the jobs of <paramref name="jobs"/> that were stored and wait or belong to a batch (flow_link()), inside
    /// the enqueue's transaction, and puts each one's state after linking in <paramref name="results"/>: released,
    /// cancelled, or refused (<see cref="EnqueueOutcome.DependencyNotFound"/>, the job deleted again) when a
    /// dependency or its batch does not exist in its tenant. Nothing is sent when no job has a workflow.
    /// </summary>
    private async ValueTask LinkFlowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<NewJob> jobs, EnqueueResult[] results, DateTimeOffset now, CancellationToken cancellationToken)
    {
        List<int>? linked = null;
        for (var i = 0; i < jobs.Count; i++)
        {
            if (jobs[i].HasFlow && results[i].Outcome == EnqueueOutcome.Enqueued)
            {
                (linked ??= []).Add(i);
            }
        }

        if (linked is null)
        {
            return;
        }

        await using var command = new NpgsqlCommand(LinkSql, connection, transaction);
        command.Parameters.Add(TextArray(linked.Select(i => jobs[i].Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = linked.Select(i => jobs[i].DependsOn.Count > 0 ? DependencyJson.Encode(jobs[i].DependsOn) : null).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        command.Parameters.Add(TextArray(linked.Select(i => jobs[i].BatchId).ToArray()));
        command.Parameters.Add(TimestampTz(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = linked[reader.GetInt32(0) - 1];
            var job = jobs[index];
            results[index] = reader.IsDBNull(2)
                ? new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, JobStateExtensions.FromStorageName(reader.GetString(1)), job.Queue, now)
                : new EnqueueResult(EnqueueOutcome.DependencyNotFound, reader.GetString(2), JobState.Waiting, job.Queue, now);
        }
    }

    /// <summary>A batch row in the column order of <see cref="GetBatchTemplate"/> (the listing reads the same columns).</summary>
    private static BatchInfo ReadBatchRow(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Tenant = reader.GetString(1),
        State = BatchStateExtensions.FromStorageName(reader.GetString(2)),
        Total = reader.GetInt32(3),
        Succeeded = reader.GetInt32(4),
        Failed = reader.GetInt32(5),
        Cancelled = reader.GetInt32(6),
        CreatedAt = JobRows.Time(reader, 7),
        UpdatedAt = JobRows.Time(reader, 8),
        FinishedAt = JobRows.NullableTime(reader, 9),
        Workflow = reader.IsDBNull(10) ? null : WorkflowJson.Decode(reader.GetString(10)),
    };
}
