using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // The bulk commands are the single-job commands (PostgresJobStore.Commands.cs) over a set of ids: one statement
    // locks the jobs (in id order, so that two bulk commands never deadlock), decides from each one's state and applies,
    // and returns each found job's id and the state it had. $1 tenant (null: any), $2 ids.

    // Cancel. $3 now, $4 cancel channel.
    private const string BulkCancelTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs
            WHERE id = ANY($2) AND ($1::text IS NULL OR tenant = $1) ORDER BY id FOR UPDATE
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
        SELECT t.id, t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Before a bulk requeue: the holders of the jobs' unique keys whose time to live has passed let them go. $3 now.
    private const string BulkReleaseExpiredKeysTemplate = """
        UPDATE :"schema".jobs h SET unique_held = false
        FROM :"schema".jobs j
        WHERE j.id = ANY($2) AND ($1::text IS NULL OR j.tenant = $1) AND j.unique_key IS NOT NULL
          AND h.tenant = j.tenant AND h.unique_key = j.unique_key AND h.unique_held AND h.unique_until <= $3
        """;

    // Requeue; each queue that got jobs back is NOTIFYed once; failed or cancelled batch members rejoin their unfinished
    // batches (RejoinedBatches). $3 now, $4 jobs channel.
    private const string BulkRequeueTemplate = """
        WITH target AS (
            SELECT id, state, batch_id FROM :"schema".jobs
            WHERE id = ANY($2) AND ($1::text IS NULL OR tenant = $1) ORDER BY id FOR UPDATE
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
            SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM requeued) q
        )
        SELECT t.id, t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Delete.
    private const string BulkDeleteTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs
            WHERE id = ANY($2) AND ($1::text IS NULL OR tenant = $1) ORDER BY id FOR UPDATE
        ), deleted AS (
            DELETE FROM :"schema".jobs j USING target t WHERE j.id = t.id AND t.state <> 'active'
        )
        SELECT t.id, t.state FROM target t
        """;

    private string BulkCancelSql => field ??= Sql(BulkCancelTemplate);

    private string BulkReleaseExpiredKeysSql => field ??= Sql(BulkReleaseExpiredKeysTemplate);

    private string BulkRequeueSql => field ??= Sql(BulkRequeueTemplate.Replace("REJOINED_BATCHES", RejoinedBatches, StringComparison.Ordinal).Replace("REJOINED_FLAGS", RejoinedFlags, StringComparison.Ordinal));

    private string BulkDeleteSql => field ??= Sql(BulkDeleteTemplate);

    /// <inheritdoc />
    /// <remarks>
    /// One round trip and one statement for the batch. An id given again is answered as the single-job command would
    /// answer right after the first (a requeued or cancelled job is then not allowed, a deleted one not found). Two
    /// requeued jobs of the batch that want the same unique key make the unique index refuse the statement: the batch
    /// is then requeued one job at a time, which gives the key to the first.
    /// </remarks>
    public ValueTask<IReadOnlyList<JobCommandResult>> RunBulkAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => RunBulkCoreAsync(action, tenant, jobIds, token), cancellationToken);

    private async ValueTask<IReadOnlyList<JobCommandResult>> RunBulkCoreAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jobIds.Count, IJobQueryStore.MaxBulkJobs, nameof(jobIds));
        foreach (var id in jobIds)
        {
            ArgumentNullException.ThrowIfNull(id, nameof(jobIds));
        }

        var (sql, channel) = action switch
        {
            JobBulkAction.Cancel => (BulkCancelSql, _cancelChannel),
            JobBulkAction.Requeue => (BulkRequeueSql, _jobsChannel),
            JobBulkAction.Delete => (BulkDeleteSql, (string?)null),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a bulk action."),
        };
        if (jobIds.Count == 0)
        {
            return [];
        }

        var distinct = jobIds.Distinct(StringComparer.Ordinal).ToArray();
        var before = new Dictionary<string, JobState>(distinct.Length, StringComparer.Ordinal);
        var now = Now();
        try
        {
            // One implicit transaction, run again whole when PostgreSQL breaks a deadlock with a batch's cancel.
            await RunAgainAfterConflictsAsync(
                async () =>
                {
                    before.Clear();
                    await using var batch = CommandBatch(TakeBatchTurnsSql, sql, tenant, () => TextArray(distinct), now, channel, action switch
                    {
                        JobBulkAction.Requeue => BulkReleaseExpiredKeysSql,
                        JobBulkAction.Delete => BulkStampDeletedFlowsSql,
                        _ => null,
                    });
                    await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past the turns' count
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        before[reader.GetString(0)] = JobStateExtensions.FromStorageName(reader.GetString(1));
                    }

                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation && action == JobBulkAction.Requeue)
        {
            var oneByOne = new JobCommandResult[jobIds.Count];
            for (var i = 0; i < oneByOne.Length; i++)
            {
                oneByOne[i] = tenant is not null
                    ? await RequeueCoreAsync(tenant, jobIds[i], cancellationToken).ConfigureAwait(false)
                    : await RequeueCoreAsync(await TenantOfAsync(jobIds[i], cancellationToken).ConfigureAwait(false) ?? string.Empty, jobIds[i], cancellationToken).ConfigureAwait(false);
            }

            return oneByOne;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }

        var results = new JobCommandResult[jobIds.Count];
        var answered = new Dictionary<string, JobCommandResult>(distinct.Length, StringComparer.Ordinal);
        for (var i = 0; i < results.Length; i++)
        {
            var id = jobIds[i];
            results[i] = answered.TryGetValue(id, out var first)
                ? Repeated(action, first)
                : answered[id] = First(action, before.TryGetValue(id, out var state) ? state : null);
        }

        if (action == JobBulkAction.Requeue && results.Contains(JobCommandResult.Done))
        {
            _signal.Set();
        }

        if (action == JobBulkAction.Cancel)
        {
            // This process's own handlers hear it at once; others through the NOTIFY.
            foreach (var (id, state) in before)
            {
                if (state == JobState.Active)
                {
                    _notifier.PublishCancellation(id);
                }
            }
        }

        return results;
    }

    private async ValueTask<string?> TenantOfAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(Sql("SELECT tenant FROM :\"schema\".jobs WHERE id = $1"));
        command.Parameters.Add(P(jobId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>What the single-job command answers for a job in that state (null: none).</summary>
    private static JobCommandResult First(JobBulkAction action, JobState? state) => (action, state) switch
    {
        (_, null) => JobCommandResult.NotFound,
        (JobBulkAction.Cancel, JobState.Active) => JobCommandResult.Requested,
        (JobBulkAction.Cancel, JobState.Scheduled or JobState.Pending or JobState.Retrying or JobState.Waiting) => JobCommandResult.Done,
        (JobBulkAction.Requeue, JobState.Failed or JobState.Cancelled or JobState.Scheduled or JobState.Retrying) => JobCommandResult.Done,
        (JobBulkAction.Delete, not JobState.Active) => JobCommandResult.Done,
        _ => JobCommandResult.NotAllowed,
    };

    /// <summary>What the single-job command answers when run again right after it answered <paramref name="first"/>.</summary>
    private static JobCommandResult Repeated(JobBulkAction action, JobCommandResult first) => (action, first) switch
    {
        (JobBulkAction.Delete, JobCommandResult.Done) => JobCommandResult.NotFound,
        (_, JobCommandResult.Done) => JobCommandResult.NotAllowed,
        _ => first,
    };
}
