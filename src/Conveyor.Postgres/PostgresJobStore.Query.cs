using System.Text;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // $1 tenant, $2 id. Returns the job's row, or nothing.
    private const string GetTemplate = "SELECT " + JobRows.InfoColumns + " FROM :\"schema\".jobs WHERE tenant = $1 AND id = $2";

    // Counts by queue and state from queue_counts and the deltas not folded into it yet (migration 0007: a few rows
    // per queue and state, whatever the number of jobs), joined with the paused queues so that a paused queue with
    // no job is listed too. The latency is the head of each queue's pending index (jobs_pending_idx), one seek per
    // queue. Returns one row per queue, ordered by name.
    private const string QueueStatsTemplate = """
        WITH counts AS (
            SELECT queue,
                   sum(jobs) FILTER (WHERE state = 'scheduled') AS scheduled,
                   sum(jobs) FILTER (WHERE state = 'pending') AS pending,
                   sum(jobs) FILTER (WHERE state = 'active') AS active,
                   sum(jobs) FILTER (WHERE state = 'retrying') AS retrying,
                   sum(jobs) FILTER (WHERE state = 'succeeded') AS succeeded,
                   sum(jobs) FILTER (WHERE state = 'partial') AS partial,
                   sum(jobs) FILTER (WHERE state = 'failed') AS failed,
                   sum(jobs) FILTER (WHERE state = 'cancelled') AS cancelled,
                   sum(jobs) FILTER (WHERE state = 'waiting') AS waiting,
                   sum(jobs) AS total
            FROM (
                SELECT queue, state, jobs FROM :"schema".queue_counts
                UNION ALL
                SELECT queue, state, jobs FROM :"schema".queue_count_deltas
            ) d
            GROUP BY queue
        )
        SELECT coalesce(c.queue, q.name) AS name, coalesce(q.paused, false),
               coalesce(c.scheduled, 0)::bigint, coalesce(c.pending, 0)::bigint, coalesce(c.active, 0)::bigint,
               coalesce(c.retrying, 0)::bigint, coalesce(c.succeeded, 0)::bigint, coalesce(c.partial, 0)::bigint,
               coalesce(c.failed, 0)::bigint, coalesce(c.cancelled, 0)::bigint, coalesce(c.waiting, 0)::bigint,
               (SELECT greatest(j.enqueued_at, j.returned_at) FROM :"schema".jobs j
                WHERE j.state = 'pending' AND j.queue = coalesce(c.queue, q.name)
                ORDER BY j.enqueued_at, j.seq LIMIT 1)
        FROM (SELECT * FROM counts WHERE total <> 0) c
        FULL JOIN :"schema".queues q ON q.name = c.queue
        WHERE c.queue IS NOT NULL OR q.paused
        ORDER BY 1
        """;

    // $1 queue, $2 now.
    private const string PauseTemplate = """
        INSERT INTO :"schema".queues (name, paused, updated_at) VALUES ($1, true, $2)
        ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = $2
        """;

    // $1 queue, $2 channel. Idle workers are woken: the queue's jobs are ready again.
    private const string ResumeTemplate = """
        WITH resumed AS (DELETE FROM :"schema".queues WHERE name = $1 RETURNING name)
        SELECT count(*), (SELECT count(*) FROM resumed, pg_notify($2, resumed.name)) FROM resumed
        """;

    private string GetSql => field ??= Sql(GetTemplate);

    private string QueueStatsSql => field ??= Sql(QueueStatsTemplate);

    private string PauseSql => field ??= Sql(PauseTemplate);

    private string ResumeSql => field ??= Sql(ResumeTemplate);

    /// <inheritdoc />
    public ValueTask<JobInfo?> GetAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => GetCoreAsync(tenant, jobId, token), cancellationToken);

    private async ValueTask<JobInfo?> GetCoreAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        try
        {
            await using var command = _dataSource.CreateCommand(GetSql);
            command.Parameters.Add(P(tenant));
            command.Parameters.Add(P(jobId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? JobRows.ReadInfo(reader) : null;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListCoreAsync(query, token), cancellationToken);

    private async ValueTask<JobPage> ListCoreAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, JobQuery.MaxLimit);
        JobCursor? cursor = null;
        if (query.Cursor is not null)
        {
            if (!JobCursor.TryDecode(query.Cursor, out var decoded))
            {
                throw new ArgumentException("The cursor is not one this store returned.", nameof(query));
            }

            cursor = decoded;
        }

        // Only the filters in use appear in the text, so each combination gets its own plan on the index in page
        // order that fits it: (tenant, created_at DESC, id DESC), (state, created_at DESC, id DESC) (migration 0010)
        // or, for every tenant, (created_at DESC, id DESC).
        var sql = new StringBuilder("SELECT ").Append(JobRows.InfoColumns).Append(" FROM ")
            .Append(PostgresSchemaName.Quote(_options.Schema)).Append(".jobs WHERE true");
        var parameters = new List<NpgsqlParameter>();
        if (query.Tenant is not null)
        {
            parameters.Add(P(query.Tenant));
            sql.Append(" AND tenant = $").Append(parameters.Count);
        }

        if (query.State is { } state)
        {
            parameters.Add(P(state.ToStorageName()));
            sql.Append(" AND state = $").Append(parameters.Count);
        }

        if (query.BatchId is not null)
        {
            parameters.Add(P(query.BatchId));
            sql.Append(" AND batch_id = $").Append(parameters.Count);
        }

        if (query.Type is not null)
        {
            parameters.Add(P(query.Type));
            sql.Append(" AND type = $").Append(parameters.Count);
        }

        if (query.Queue is not null)
        {
            parameters.Add(P(query.Queue));
            sql.Append(" AND queue = $").Append(parameters.Count);
        }

        if (query.CreatedAfter is { } createdAfter)
        {
            parameters.Add(TimestampTz(createdAfter));
            sql.Append(" AND created_at >= $").Append(parameters.Count);
        }

        if (query.CreatedBefore is { } createdBefore)
        {
            parameters.Add(TimestampTz(createdBefore));
            sql.Append(" AND created_at < $").Append(parameters.Count);
        }

        if (query.ErrorContains is { } nul && nul.Contains('\0', StringComparison.Ordinal))
        {
            // No stored message holds U+0000 (JobRows.WriteErrors replaces it), and a text parameter cannot carry one.
            sql.Append(" AND false");
        }
        else if (query.ErrorContains is not null)
        {
            // The last error's message; strpos, not LIKE, so that '%' and '_' in the text are taken literally.
            // ASCII letters folded only, as on every store (JobQuery.FoldAsciiCase): lower() folds others by the locale.
            parameters.Add(P(JobQuery.FoldAsciiCase(query.ErrorContains)));
            sql.Append(" AND strpos(translate(errors -> -1 ->> 'message', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $").Append(parameters.Count).Append(") > 0");
        }

        if (cursor is { } after)
        {
            parameters.Add(TimestampTz(DateTimeOffset.UnixEpoch.AddTicks(after.CreatedAtUnixMicroseconds * 10)));
            parameters.Add(P(after.JobId));
            sql.Append(" AND (created_at, id) < ($").Append(parameters.Count - 1).Append(", $").Append(parameters.Count).Append(')');
        }

        parameters.Add(P(query.Limit + 1));
        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT $").Append(parameters.Count);

        try
        {
            await using var command = _dataSource.CreateCommand(sql.ToString());
            command.Parameters.AddRange(parameters.ToArray());
            var jobs = new List<JobInfo>(Math.Min(query.Limit + 1, 128));
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    jobs.Add(JobRows.ReadInfo(reader));
                }
            }

            string? next = null;
            if (jobs.Count > query.Limit)
            {
                jobs.RemoveAt(jobs.Count - 1);
                var last = jobs[^1];
                next = new JobCursor(JobCursor.ToUnixMicroseconds(last.CreatedAt), last.Id).Encode();
            }

            return new JobPage(jobs, next);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsAsync(CancellationToken cancellationToken) =>
        _grace.RunAsync(token => GetQueueStatsCoreAsync(token), cancellationToken);

    private async ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                await FoldQueueCountsIfDueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException exception) when (IsUnavailable(exception) && exception.SqlState is not ("57P01" or "57P02" or "57P03" or "53300"))
            {
                // A server that answers and refuses writes (a standby, a full disk), or a fold that lost a conflict, still
                // answers the read, which adds the deltas itself: job_store_up, which this read reports, stays 1 for it,
                // as documented. A server going away or out of connections is left to fail the read as an outage.
                ClearPoolAfter(exception);
            }

            await using var command = _dataSource.CreateCommand(QueueStatsSql);
            var stats = new List<QueueStats>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                stats.Add(new QueueStats
                {
                    Queue = reader.GetString(0),
                    Paused = reader.GetBoolean(1),
                    Scheduled = reader.GetInt64(2),
                    Pending = reader.GetInt64(3),
                    Active = reader.GetInt64(4),
                    Retrying = reader.GetInt64(5),
                    Succeeded = reader.GetInt64(6),
                    Partial = reader.GetInt64(7),
                    Failed = reader.GetInt64(8),
                    Cancelled = reader.GetInt64(9),
                    Waiting = reader.GetInt64(10),
                    OldestPendingSince = JobRows.NullableTime(reader, 11),
                });
            }

            return stats;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => PauseQueueCoreAsync(queue, token), cancellationToken);

    private async ValueTask PauseQueueCoreAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        try
        {
            await using var command = _dataSource.CreateCommand(PauseSql);
            command.Parameters.Add(P(queue));
            command.Parameters.Add(TimestampTz(Now()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ResumeQueueCoreAsync(queue, token), cancellationToken);

    private async ValueTask ResumeQueueCoreAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        try
        {
            await using var command = _dataSource.CreateCommand(ResumeSql);
            command.Parameters.Add(P(queue));
            command.Parameters.Add(Text(_jobsChannel));
            if ((long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0)
            {
                _signal.Set();
            }
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
