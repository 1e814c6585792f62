using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Each command locks the job, decides from its state, and applies in one statement. The outer SELECT returns
    // the state the job had (no row: no such job in that tenant), from which the caller reads the result.

    // Cancel: scheduled, pending or retrying become cancelled at once (unique key released, retention starts); an
    // active job gets cancel_requested and a NOTIFY on the cancel channel (payload: its id), which the process
    // running it receives within milliseconds. $1 tenant, $2 id, $3 now, $4 cancel channel.
    private const string CancelTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), cancelled AS (
            UPDATE :"schema".jobs j SET state = 'cancelled', completed_at = $3, expires_at = $3 + coalesce(j.cancelled_retention, j.retention),
                unique_held = false, updated_at = $3
            FROM target t
            WHERE j.id = t.id AND t.state IN ('scheduled', 'pending', 'retrying', 'waiting')
        ), requested AS (
            UPDATE :"schema".jobs j SET cancel_requested = true, updated_at = $3
            FROM target t
            WHERE j.id = t.id AND t.state = 'active'
            RETURNING j.id
        ), notified AS (
            SELECT pg_notify($4, r.id) FROM requested r
        )
        SELECT t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Requeue: failed, cancelled, scheduled or retrying become pending now, due now, errors kept; the queue is
    // NOTIFYed. A failed or cancelled batch member rejoins its batch while the batch is unfinished (RejoinedBatches). Attempts keep counting, so the next attempt's error has its own number; the earlier attempts' start,
    // completion and progress are cleared so that nothing stale looks current. A job with a unique key whose time to live has not passed holds it again, unless another
    // job holds it now. $1 tenant, $2 id, $3 now, $4 jobs channel.
    private const string RequeueTemplate = """
        WITH target AS (
            SELECT id, state, batch_id FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), REJOINED_BATCHES, requeued AS (
            UPDATE :"schema".jobs j SET state = 'pending', progress = 0, scheduled_at = $3, enqueued_at = $3,
                started_at = NULL, completed_at = NULL,
                expires_at = NULL, cancel_requested = false, updated_at = $3,
                REJOINED_FLAGS
                unique_held = j.unique_held OR (
                    j.unique_key IS NOT NULL AND (j.unique_until IS NULL OR j.unique_until > $3)
                    AND NOT EXISTS (
                        SELECT 1 FROM :"schema".jobs h
                        WHERE h.tenant = j.tenant AND h.unique_key = j.unique_key AND h.unique_held AND h.id <> j.id))
            FROM target t
            WHERE j.id = t.id AND t.state IN ('failed', 'cancelled', 'scheduled', 'retrying')
            RETURNING j.queue
        ), notified AS (
            SELECT pg_notify($4, r.queue) FROM requeued r
        )
        SELECT t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Before a requeue: the holders of the job's unique key whose time to live has passed let it go.
    // $1 tenant, $2 id, $3 now.
    private const string ReleaseExpiredKeyOfJobTemplate = """
        UPDATE :"schema".jobs h SET unique_held = false
        FROM :"schema".jobs j
        WHERE j.tenant = $1 AND j.id = $2 AND j.unique_key IS NOT NULL
          AND h.tenant = j.tenant AND h.unique_key = j.unique_key AND h.unique_held AND h.unique_until <= $3
        """;

    // Delete: any job that is not active. $1 tenant, $2 id.
    private const string DeleteTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), deleted AS (
            DELETE FROM :"schema".jobs j USING target t WHERE j.id = t.id AND t.state <> 'active'
        )
        SELECT t.state FROM target t
        """;

    // Before a delete, in its transaction: a flagged job deleted before it finished ends what waits for it and its
    // batch (jobs_flow_deleted() of 0029) at its updated_at, stamped with now here so that those ends, and the retention
    // counted from them, are the delete's. Every target is locked here, in id order as every bulk command locks them:
    // locking only the flagged ones first would take them out of that order. $1 tenant (null: every tenant), $2 the id
    // (IDS "= $2") or ids (IDS "= ANY ($2)", the bulk delete), $3 now.
    private const string StampDeletedFlowsTemplate = """
        UPDATE :"schema".jobs j SET updated_at = $3
        FROM (SELECT id, flow, state FROM :"schema".jobs WHERE id IDS AND ($1::text IS NULL OR tenant = $1) ORDER BY id FOR UPDATE) t
        WHERE j.id = t.id AND t.flow AND t.state NOT IN ('active', 'succeeded', 'partial', 'failed', 'cancelled')
        """;

    private string StampDeletedFlowSql => field ??= Sql(StampDeletedFlowsTemplate.Replace("IDS", "= $2", StringComparison.Ordinal));

    private string BulkStampDeletedFlowsSql => field ??= Sql(StampDeletedFlowsTemplate.Replace("IDS", "= ANY ($2)", StringComparison.Ordinal));

    private string CancelSql => field ??= Sql(CancelTemplate);

    // A requeue's failed or cancelled batch members (target: id, state, batch_id) whose batch is unfinished: their ends
    // leave the batch's counts, and the requeue flags them again (flow), so that jobs_flow_finished() counts their
    // next ends as any member's; a finished batch, or one cancelled as a whole, keeps the ends it was decided by. Jobs
    // are locked before batches, and batches by id (batch_locks), as an acknowledgement takes them. The decrement
    // cannot finish a batch (a batch finishes when its counts reach the total, in jobs_flow_finished()).
    private const string RejoinedBatches = """
        batch_locks AS (
            SELECT id FROM :"schema".batches
            WHERE id IN (SELECT batch_id FROM target WHERE state IN ('failed', 'cancelled'))
            ORDER BY id FOR UPDATE
        ), rejoined AS (
            UPDATE :"schema".batches b
                SET failed = b.failed - r.failed, cancelled = b.cancelled - r.cancelled, updated_at = $3
                FROM (SELECT t.batch_id, count(*) FILTER (WHERE t.state = 'failed') AS failed,
                             count(*) FILTER (WHERE t.state = 'cancelled') AS cancelled
                      FROM target t
                      WHERE t.state IN ('failed', 'cancelled') AND t.batch_id IS NOT NULL
                      GROUP BY t.batch_id) r
                WHERE b.id = r.batch_id AND b.id IN (SELECT id FROM batch_locks)
                  AND b.finished_at IS NULL AND b.state = 'running'
                RETURNING b.id
        )
        """;

    // The flags of a requeued job (the SET of requeued, after RejoinedBatches): a member that rejoined its batch is
    // flagged again, and its next end is counted; a failed or cancelled member that did not (its batch finished, or was
    // cancelled as a whole) stays counted (batch_counted), so that a continuation added later, which flags it again for
    // its dependants, does not count its next end in the batch a second time (migration 0029).
    private const string RejoinedFlags = """
        flow = j.flow OR (t.state IN ('failed', 'cancelled') AND j.batch_id IS NOT NULL AND j.batch_id IN (SELECT id FROM rejoined)),
                        batch_counted = CASE WHEN t.state IN ('failed', 'cancelled') AND j.batch_id IS NOT NULL
                                             THEN j.batch_id NOT IN (SELECT id FROM rejoined) ELSE j.batch_counted END,
        """;

    private string RequeueSql => field ??= Sql(RequeueTemplate.Replace("REJOINED_BATCHES", RejoinedBatches, StringComparison.Ordinal).Replace("REJOINED_FLAGS", RejoinedFlags, StringComparison.Ordinal));

    private string ReleaseExpiredKeyOfJobSql => field ??= Sql(ReleaseExpiredKeyOfJobTemplate);

    private string DeleteSql => field ??= Sql(DeleteTemplate);

    /// <inheritdoc />
    public ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => CancelCoreAsync(tenant, jobId, token), cancellationToken);

    private async ValueTask<JobCommandResult> CancelCoreAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        var state = await RunCommandAsync(CancelSql, tenant, jobId, _cancelChannel, cancellationToken).ConfigureAwait(false);
        switch (state)
        {
            case null:
                return JobCommandResult.NotFound;
            case JobState.Active:
                // This process's own handlers hear it at once; others through the NOTIFY.
                _notifier.PublishCancellation(jobId);
                return JobCommandResult.Requested;
            case { } s when s.IsFinished():
                return JobCommandResult.NotAllowed;
            default:
                return JobCommandResult.Done;
        }
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => RequeueCoreAsync(tenant, jobId, token), cancellationToken);

    private async ValueTask<JobCommandResult> RequeueCoreAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        // The job may take its unique key back; the expired holders of that key let it go first. If another
        // enqueue takes the key between the check and the update, the unique index refuses the update: the
        // requeue runs again and then sees that holder.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var state = await RunCommandAsync(RequeueSql, tenant, jobId, _jobsChannel, cancellationToken, ReleaseExpiredKeyOfJobSql).ConfigureAwait(false);
                switch (state)
                {
                    case null:
                        return JobCommandResult.NotFound;
                    case JobState.Failed or JobState.Cancelled or JobState.Scheduled or JobState.Retrying:
                        _signal.Set();
                        return JobCommandResult.Done;
                    default:
                        return JobCommandResult.NotAllowed;
                }
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 3)
            {
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => DeleteCoreAsync(tenant, jobId, token), cancellationToken);

    private async ValueTask<JobCommandResult> DeleteCoreAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        var state = await RunCommandAsync(DeleteSql, tenant, jobId, channel: null, cancellationToken, StampDeletedFlowSql).ConfigureAwait(false);
        return state switch
        {
            null => JobCommandResult.NotFound,
            JobState.Active => JobCommandResult.NotAllowed,
            _ => JobCommandResult.Done,
        };
    }

    /// <summary>
    /// Runs one of the command statements, after <paramref name="before"/> (same parameters, same implicit
    /// transaction) when given; returns the state the job had before, or null when there is no such job. A cancel or
    /// delete of a waiting workflow step takes the step, then its batch; the acknowledgement of the step it waits for
    /// takes that step, the batch, then the waiting one: when PostgreSQL breaks that cycle by rolling the command back
    /// (whole, one implicit transaction), it runs again instead of answering a store fault.
    /// </summary>
    private ValueTask<JobState?> RunCommandAsync(string sql, string tenant, string jobId, string? channel, CancellationToken cancellationToken, string? before = null)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        var now = Now();
        return RunAgainAfterConflictsAsync<JobState?>(
            async () =>
            {
                await using var batch = CommandBatch(TakeBatchTurnSql, sql, tenant, () => P(jobId), now, channel, before);
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past the turns' count
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? JobStateExtensions.FromStorageName(reader.GetString(0))
                    : null;
            },
            cancellationToken);
    }

    // Before a command locks a row: its jobs' batches, in id order, each in the turn a batch's cancel takes whole
    // (CancelBatchLock), shared here so that commands do not wait for each other. A cancel locks the batch before its
    // waiting members, and a command locks members before their batch (deleting or finishing one counts in it): without
    // the turns the two met in deadlocks, and a cancel racing three bulk deletes of 150 members each could lose five
    // times in a row. $1 tenant (null: every tenant), $2 the id (IDS "= $2") or ids (IDS "= ANY ($2)"), $3 the schema.
    private const string TakeBatchTurnsTemplate =
        "SELECT count(pg_advisory_xact_lock_shared(hashtextextended('" + BatchTurnKeyPrefix + "' || $3 || ':' || b.batch_id, 0))) " +
        "FROM (SELECT DISTINCT batch_id FROM :\"schema\".jobs " +
        "WHERE id IDS AND ($1::text IS NULL OR tenant = $1) AND batch_id IS NOT NULL ORDER BY batch_id) b";

    private string TakeBatchTurnSql => field ??= Sql(TakeBatchTurnsTemplate.Replace("IDS", "= $2", StringComparison.Ordinal));

    private string TakeBatchTurnsSql => field ??= Sql(TakeBatchTurnsTemplate.Replace("IDS", "= ANY ($2)", StringComparison.Ordinal));

    /// <summary>
    /// A command statement: tenant $1 (null: every tenant), the job id or ids $2, and for a state change now $3 and the
    /// wake-up channel $4; after <paramref name="turns"/> (tenant, ids, schema) and <paramref name="before"/> (tenant,
    /// ids, now) in the same implicit transaction.
    /// </summary>
    private NpgsqlBatch CommandBatch(string turns, string sql, string? tenant, Func<NpgsqlParameter> ids, DateTimeOffset now, string? channel, string? before)
    {
        var batch = _dataSource.CreateBatch();
        var wait = new NpgsqlBatchCommand(turns);
        wait.Parameters.Add(Text(tenant));
        wait.Parameters.Add(ids());
        wait.Parameters.Add(Text(_options.Schema));
        batch.BatchCommands.Add(wait);
        if (before is not null)
        {
            var first = new NpgsqlBatchCommand(before);
            first.Parameters.Add(Text(tenant));
            first.Parameters.Add(ids());
            first.Parameters.Add(TimestampTz(now));
            batch.BatchCommands.Add(first);
        }

        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(Text(tenant));
        command.Parameters.Add(ids());
        if (channel is not null)
        {
            command.Parameters.Add(TimestampTz(now));
            command.Parameters.Add(P(channel));
        }

        batch.BatchCommands.Add(command);
        return batch;
    }
}
