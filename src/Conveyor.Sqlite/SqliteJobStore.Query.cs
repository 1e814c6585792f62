using System.Text;
using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public ValueTask<JobInfo?> GetAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        return ReadAsync((tenant, jobId), static (_, session, key) =>
        {
            using var reader = session.Command(SqlStatement.GetJob).Bind("@tenant", key.tenant).Bind("@id", key.jobId).ExecuteReader();
            return reader.Read() ? JobRecord.Read(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, JobQuery.MaxLimit, nameof(query));
        var cursor = new JobCursor(long.MaxValue, string.Empty);
        if (query.Cursor is not null && !JobCursor.TryDecode(query.Cursor, out cursor))
        {
            throw new ArgumentException("The cursor is not one that a previous page returned.", nameof(query));
        }

        return ReadAsync((query, cursor), static (_, session, q) =>
        {
            var command = session.Command(ListingSql(q.query))
                .Bind("@cursor_created_at", q.cursor.CreatedAtUnixMicroseconds)
                .Bind("@cursor_id", q.cursor.JobId)
                .Bind("@limit", q.query.Limit + 1);
            BindIfSet(command, "@tenant", q.query.Tenant);
            BindIfSet(command, "@state", q.query.State?.ToStorageName());
            BindIfSet(command, "@type", q.query.Type);
            BindIfSet(command, "@queue", q.query.Queue);
            BindIfSet(command, "@batch_id", q.query.BatchId);
            BindIfSet(command, "@error", q.query.ErrorContains is { } error ? Encoding.UTF8.GetBytes(JobQuery.FoldAsciiCase(error)) : null);
            BindIfSet(command, "@created_after", q.query.CreatedAfter is { } after ? UnixTime.ToMicroseconds(after) : null);
            BindIfSet(command, "@created_before", q.query.CreatedBefore is { } before ? UnixTime.ToMicroseconds(before) : null);
            var jobs = new List<JobInfo>(Math.Min(q.query.Limit + 1, 128));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    jobs.Add(JobRecord.Read(reader));
                }
            }

            if (jobs.Count <= q.query.Limit)
            {
                return new JobPage(jobs, null);
            }

            jobs.RemoveAt(jobs.Count - 1);
            var last = jobs[^1];
            return new JobPage(jobs, new JobCursor(UnixTime.ToMicroseconds(last.CreatedAt), last.Id).Encode());
        }, cancellationToken);
    }

    /// <summary>
    /// ListJobs.sql and the clauses of the filters in use. The index is named so that each combination reads one
    /// keyset in page order: by state (jobs_state_created) when a state is asked for, else the tenant's
    /// (jobs_tenant_created), else every tenant's (jobs_created); the other filters are checked on the rows read. A
    /// batch's members are read through jobs_batch and sorted (a batch is a bounded set).
    /// </summary>
    internal static string ListingSql(JobQuery query)
    {
        var sql = new System.Text.StringBuilder(SqlText.Get(SqlStatement.ListJobs).TrimEnd())
            .Append(query.BatchId is not null ? " INDEXED BY jobs_batch"
                : query.State is not null ? " INDEXED BY jobs_state_created"
                : query.Tenant is not null ? " INDEXED BY jobs_tenant_created" : " INDEXED BY jobs_created")
            .Append("\nWHERE (created_at, id) < (@cursor_created_at, @cursor_id)");
        if (query.BatchId is not null)
        {
            sql.Append(" AND batch_id = @batch_id");
        }

        if (query.State is not null)
        {
            sql.Append(" AND state = @state");
        }

        if (query.Tenant is not null)
        {
            sql.Append(" AND tenant = @tenant");
        }

        if (query.CreatedAfter is not null)
        {
            sql.Append(" AND created_at >= @created_after");
        }

        if (query.CreatedBefore is not null)
        {
            sql.Append(" AND created_at < @created_before");
        }

        if (query.Type is not null)
        {
            sql.Append(" AND type = @type");
        }

        if (query.Queue is not null)
        {
            sql.Append(" AND queue = @queue");
        }

        if (query.ErrorContains is not null)
        {
            sql.Append(" AND conveyor_last_error_contains(errors, @error)");
        }

        return sql.Append("\nORDER BY created_at DESC, id DESC LIMIT @limit + 0;").ToString();
    }

    private static void BindIfSet(Microsoft.Data.Sqlite.SqliteCommand command, string name, object? value)
    {
        if (value is not null)
        {
            command.Bind(name, value);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static (_, session, _) =>
        {
            var stats = new SortedDictionary<string, QueueStats>(StringComparer.Ordinal);
            using (var reader = session.Command(SqlStatement.QueueStats).ExecuteReader())
            {
                while (reader.Read())
                {
                    var queue = reader.GetString(0);
                    var count = reader.GetInt64(2);
                    var current = stats.TryGetValue(queue, out var existing) ? existing : new QueueStats { Queue = queue };
                    stats[queue] = JobStateExtensions.FromStorageName(reader.GetString(1)) switch
                    {
                        JobState.Scheduled => current with { Scheduled = count },
                        JobState.Pending => current with { Pending = count, OldestPendingSince = JobRecord.ReadTime(reader, 3) },
                        JobState.Active => current with { Active = count },
                        JobState.Retrying => current with { Retrying = count },
                        JobState.Succeeded => current with { Succeeded = count },
                        JobState.Partial => current with { Partial = count },
                        JobState.Failed => current with { Failed = count },
                        JobState.Waiting => current with { Waiting = count },
                        _ => current with { Cancelled = count },
                    };
                }
            }

            using (var reader = session.Command(SqlStatement.PausedQueues).ExecuteReader())
            {
                while (reader.Read())
                {
                    var queue = reader.GetString(0);
                    stats[queue] = (stats.TryGetValue(queue, out var existing) ? existing : new QueueStats { Queue = queue }) with { Paused = true };
                }
            }

            return (IReadOnlyList<QueueStats>)[.. stats.Values];
        }, cancellationToken);

    /// <inheritdoc />
    public ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return new ValueTask(WriteAsync(queue, static (_, session, q) =>
            session.Command(SqlStatement.PauseQueue).Bind("@queue", q).ExecuteNonQuery(), cancellationToken).AsTask());
    }

    /// <inheritdoc />
    public async ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var resumed = await WriteAsync(queue, static (_, session, q) =>
            session.Command(SqlStatement.ResumeQueue).Bind("@queue", q).ExecuteNonQuery(), cancellationToken).ConfigureAwait(false);
        if (resumed > 0)
        {
            // The queue's waiting jobs are ready again.
            _signal.Fire();
        }
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        RunCommandAsync(tenant, jobId, JobBulkAction.Cancel, cancellationToken);

    /// <inheritdoc />
    public ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        RunCommandAsync(tenant, jobId, JobBulkAction.Requeue, cancellationToken);

    /// <inheritdoc />
    public ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        RunCommandAsync(tenant, jobId, JobBulkAction.Delete, cancellationToken);

    /// <summary>Reads the job's state and applies the command in one write transaction, so the answer is never stale.</summary>
    private async ValueTask<JobCommandResult> RunCommandAsync(string tenant, string jobId, JobBulkAction kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        var result = await WriteAsync((tenant, jobId, kind), static (store, session, c) =>
            session.InTransaction((store, c), static (s, state) => state.store.ApplyCommand(s, state.c.tenant, state.c.jobId, state.c.kind)),
            cancellationToken).ConfigureAwait(false);
        if (kind == JobBulkAction.Requeue && result == JobCommandResult.Done)
        {
            _signal.Fire();
        }

        WakeIfFlowReleased();
        return result;
    }

    /// <summary>Applies one command inside the caller's write transaction; a null tenant finds the job in any tenant.</summary>
    private JobCommandResult ApplyCommand(SqliteSession session, string? tenant, string jobId, JobBulkAction kind)
    {
        long seq;
        JobState state;
        var find = tenant is null
            ? session.Command(SqlStatement.FindAnyTenantJobState).Bind("@id", jobId)
            : session.Command(SqlStatement.FindJobState).Bind("@tenant", tenant).Bind("@id", jobId);
        using (var reader = find.ExecuteReader())
        {
            if (!reader.Read())
            {
                return JobCommandResult.NotFound;
            }

            seq = reader.GetInt64(0);
            state = JobStateExtensions.FromStorageName(reader.GetString(1));
        }

        var now = Now();
        switch (kind)
        {
            case JobBulkAction.Cancel when state == JobState.Active:
                session.Command(SqlStatement.RequestCancel).Bind("@seq", seq).Bind("@now", now).ExecuteNonQuery();
                return JobCommandResult.Requested;
            case JobBulkAction.Cancel when state is JobState.Scheduled or JobState.Pending or JobState.Retrying or JobState.Waiting:
                session.Command(SqlStatement.CancelJob).Bind("@seq", seq).Bind("@now", now).ExecuteNonQuery();
                FlowReleasedJobs(session);
                return JobCommandResult.Done;
            case JobBulkAction.Requeue when state is JobState.Failed or JobState.Cancelled or JobState.Scheduled or JobState.Retrying:
                var pendingSeq = ReadPendingSeq(session) + 1;
                if (state is JobState.Failed or JobState.Cancelled)
                {
                    session.Command(SqlStatement.RejoinBatch).Bind("@seq", seq).Bind("@now", now).ExecuteNonQuery();
                }

                session.Command(SqlStatement.RequeueJob).Bind("@seq", seq).Bind("@now", now).Bind("@pending_seq", pendingSeq).ExecuteNonQuery();
                AdvancePendingSeq(session, pendingSeq);
                return JobCommandResult.Done;
            case JobBulkAction.Delete when state != JobState.Active:
                session.Command(SqlStatement.DeleteJob).Bind("@seq", seq).Bind("@now", now).ExecuteNonQuery();
                FlowReleasedJobs(session);
                return JobCommandResult.Done;
            default:
                return JobCommandResult.NotAllowed;
        }
    }

}
