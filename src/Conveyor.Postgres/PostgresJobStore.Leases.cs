using Conveyor.Storage;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Extends every lease of one server that is still held under its token, in one statement. Rows are locked in
    // id order, as the acknowledgement locks them: two statements that lock many rows in different orders deadlock
    // (40P01) under load, and the retried batch then lets leases lapse.
    // $1 ids text[], $2 tokens bigint[], $3 owner, $4 new expiry. Returns id and cancel_requested of each lease
    // extended; the caller reports the others as lost.
    private const string ExtendLeasesTemplate = """
        WITH held AS (
            SELECT j.id FROM :"schema".jobs j
            JOIN unnest($1::text[], $2::bigint[]) AS l(id, token) ON j.id = l.id AND j.lease_token = l.token
            WHERE j.state = 'active' AND j.lease_owner = $3
            ORDER BY j.id
            FOR UPDATE OF j
        )
        UPDATE :"schema".jobs j SET lease_expires_at = $4
        FROM held
        WHERE j.id = held.id
        RETURNING j.id, j.cancel_requested
        """;

    // The leases one server holds: its active jobs and their tokens. The state = 'active' condition matches the partial
    // index jobs_lease_idx, which holds only the active jobs, so the read costs what the jobs running cost, whatever the
    // size of the table; no index of its own, which every dequeue and acknowledgement would pay to maintain.
    // $1 owner. Returns id and lease_token of each lease.
    private const string ListLeasesTemplate = """
        SELECT id, lease_token FROM :"schema".jobs
        WHERE state = 'active' AND lease_owner = $1
        """;

    // Takes up to $2 active jobs whose lease expired before $1 (oldest expiry first; SKIP LOCKED so that the
    // recoverers of several servers share the work). Each gets an error; it goes back to pending (its attempt
    // counted) or, out of attempts or past its deadline, to failed; a job whose cancellation was requested is
    // cancelled, as its worker would have done. A job back to pending keeps its enqueued_at, so it takes back its
    // place at the head of the queue (ahead of every job that became pending after it) and runs next; its progress
    // starts again from 0, and its returned_at is $1: it waits from now, as the time its dead attempt held the lease is
    // no queue wait (migration 0039). The queue of every job recovered is NOTIFYed: one that got a pending job, and one whose job
    // freed a concurrency slot by leaving the active state (failed or cancelled too), which a held-back server may take.
    // $1 now, $2 limit, $3 message, $4 now as ISO 8601 text (the error's occurred_at), $5 channel.
    // Returns id, type, queue, tenant and new state of each job recovered.
    private const string RecoverTemplate = """
        WITH expired AS (
            SELECT id, cancel_requested AS cancel,
                   (attempts > max_retry OR coalesce(deadline <= $1, false)) AS fail
            FROM :"schema".jobs
            WHERE state = 'active' AND lease_expires_at < $1
            ORDER BY lease_expires_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), recovered AS (
            UPDATE :"schema".jobs j SET
                state = CASE WHEN e.cancel THEN 'cancelled' WHEN e.fail THEN 'failed' ELSE 'pending' END,
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempts, 'message', $3::text, 'exception_type', NULL, 'item', NULL, 'occurred_at', $4::text)),
                progress = CASE WHEN e.cancel OR e.fail THEN j.progress ELSE 0 END,
                returned_at = CASE WHEN e.cancel OR e.fail THEN j.returned_at ELSE $1 END,
                completed_at = CASE WHEN e.cancel OR e.fail THEN $1 END,
                expires_at = CASE WHEN e.cancel THEN $1 + coalesce(j.cancelled_retention, j.retention) WHEN e.fail THEN $1 + coalesce(j.failed_retention, j.retention) END,
                unique_held = j.unique_held AND NOT (e.cancel OR e.fail),
                lease_token = NULL,
                lease_owner = NULL,
                lease_expires_at = NULL,
                cancel_requested = false,
                updated_at = $1
            FROM expired e
            WHERE j.id = e.id
            RETURNING j.id, j.type, j.queue, j.tenant, j.state
        ), notified AS (
            SELECT pg_notify($5, q.queue) FROM (SELECT DISTINCT queue FROM recovered) q
        )
        SELECT recovered.* FROM recovered, (SELECT count(*) FROM notified) n
        """;

    // Moves up to $2 scheduled and retrying jobs due at or before $1 to pending (earliest first) and NOTIFYs their
    // queues. $1 now, $2 limit, $3 channel. Returns the number of jobs moved.
    private const string PromoteTemplate = """
        WITH due AS (
            SELECT id FROM :"schema".jobs
            WHERE state IN ('scheduled', 'retrying') AND scheduled_at <= $1
            ORDER BY scheduled_at, seq
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE :"schema".jobs j SET state = 'pending', enqueued_at = $1, updated_at = $1
            FROM due WHERE j.id = due.id
            RETURNING j.queue
        ), notified AS (
            SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM moved) q
        )
        SELECT count(*), (SELECT count(*) FROM notified) FROM moved
        """;

    // Deletes up to $2 finished jobs whose retention ended at or before $1 (bounded, so one call never holds
    // locks for long or bloats one transaction), and the expired idempotency records, locks and server entries
    // (small tables). $1 now, $2 limit. Returns the number of jobs deleted. Autovacuum reclaims the dead rows. Each
    // DELETE repeats its expiry condition outside its subquery: a row renewed while the DELETE waits for its lock is
    // re-read against that condition (the subquery's pick is not), so an idempotency key begun again, a rate line
    // just taken from or a batch given more time stays. The jobs' pick is MATERIALIZED, so it runs once: a plan that
    // ran it again for each row of a nested loop would find the rows this DELETE took skipped as locked and pick the
    // next ones, past the limit.
    private const string PurgeTemplate = """
        WITH doomed AS MATERIALIZED (
            SELECT id FROM :"schema".jobs
            WHERE state IN ('succeeded', 'partial', 'failed', 'cancelled') AND expires_at <= $1
            ORDER BY expires_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), purged AS (
            DELETE FROM :"schema".jobs WHERE id IN (SELECT id FROM doomed)
            RETURNING 1
        ), keys AS (
            DELETE FROM :"schema".idempotency_records
            WHERE key IN (SELECT key FROM :"schema".idempotency_records WHERE expires_at <= $1 LIMIT $2) AND expires_at <= $1
        ), locks AS (
            DELETE FROM :"schema".locks WHERE expires_at <= $1
        ), servers AS (
            DELETE FROM :"schema".servers WHERE expires_at <= $1
        ), rate_limiters AS (
            DELETE FROM :"schema".rate_limiters
            WHERE key IN (SELECT key FROM :"schema".rate_limiters WHERE tat <= $1 LIMIT $2) AND tat <= $1
        ), batches AS (
            DELETE FROM :"schema".batches
            WHERE id IN (SELECT id FROM :"schema".batches WHERE expires_at <= $1 LIMIT $2) AND expires_at <= $1
        )
        SELECT count(*) FROM purged
        """;

    private string ExtendLeasesSql => field ??= Sql(ExtendLeasesTemplate);

    private string ListLeasesSql => field ??= Sql(ListLeasesTemplate);

    private string RecoverSql => field ??= Sql(RecoverTemplate);

    private string PromoteSql => field ??= Sql(PromoteTemplate);

    // The times at which scheduled and retrying jobs become due in ($1, $2), each rounded up to a whole multiple of $3
    // microseconds, earliest first, each once, at most $4 of them: the jobs read from jobs_due_idx, which holds exactly
    // them in this order.
    private const string ListDueTimesTemplate = """
        SELECT DISTINCT ceil(extract(epoch FROM scheduled_at) * 1000000 / $3)::bigint * $3 AS due FROM :"schema".jobs
        WHERE state IN ('scheduled', 'retrying') AND scheduled_at > $1 AND scheduled_at < $2
        ORDER BY due
        LIMIT $4
        """;

    private string ListDueTimesSql => field ??= Sql(ListDueTimesTemplate);

    private string PurgeSql => field ??= Sql(PurgeTemplate);

    /// <inheritdoc />
    public ValueTask<LeaseExtension> ExtendLeasesAsync(ExtendLeasesRequest request, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ExtendLeasesCoreAsync(request, token), cancellationToken);

    private async ValueTask<LeaseExtension> ExtendLeasesCoreAsync(ExtendLeasesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Leases.Count == 0)
        {
            return LeaseExtension.None;
        }

        var ids = new string[request.Leases.Count];
        var tokens = new long[request.Leases.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = request.Leases[i].JobId;
            tokens[i] = request.Leases[i].LeaseToken;
        }

        try
        {
            await using var batch = WorkerBatch(ExtendLeasesSql, out var command);
            command.Parameters.Add(P(ids));
            command.Parameters.Add(P(tokens));
            command.Parameters.Add(P(request.ServerId));
            command.Parameters.Add(TimestampTz(Now() + request.LeaseDuration));
            var extended = new HashSet<string>(StringComparer.Ordinal);
            var cancelRequested = new List<string>();
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = reader.GetString(0);
                    extended.Add(id);
                    if (reader.GetBoolean(1))
                    {
                        cancelRequested.Add(id);
                    }
                }
            }

            var lost = ids.Where(id => !extended.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
            return lost.Length == 0 && cancelRequested.Count == 0 ? LeaseExtension.None : new LeaseExtension(lost, cancelRequested);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListLeasesCoreAsync(serverId, token), cancellationToken);

    private async ValueTask<IReadOnlyList<LeaseRef>> ListLeasesCoreAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        try
        {
            await using var command = _dataSource.CreateCommand(ListLeasesSql);
            command.Parameters.Add(Text(serverId));
            var leases = new List<LeaseRef>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                leases.Add(new LeaseRef(reader.GetString(0), reader.GetInt64(1)));
            }

            return leases;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesAsync(int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => RecoverExpiredLeasesCoreAsync(limit, token), cancellationToken);

    private async ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesCoreAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return [];
        }

        var now = Now();
        try
        {
            await using var batch = WorkerBatch(RecoverSql, out var command);
            command.Parameters.Add(TimestampTz(now));
            command.Parameters.Add(P(limit));
            command.Parameters.Add(Text(LeaseMessages.Expired));
            command.Parameters.Add(Text(now.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            command.Parameters.Add(Text(_jobsChannel));
            var recovered = new List<RecoveredJob>();
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    recovered.Add(new RecoveredJob(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        JobStateExtensions.FromStorageName(reader.GetString(4))));
                }
            }

            if (recovered.Any(static r => r.NewState == JobState.Pending))
            {
                _signal.Set();
            }

            return recovered;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> PromoteDueAsync(int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => PromoteDueCoreAsync(limit, token), cancellationToken);

    private async ValueTask<int> PromoteDueCoreAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return 0;
        }

        try
        {
            await using var batch = WorkerBatch(PromoteSql, out var command);
            command.Parameters.Add(TimestampTz(Now()));
            command.Parameters.Add(P(limit));
            command.Parameters.Add(Text(_jobsChannel));
            var moved = (int)(long)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (moved > 0)
            {
                _signal.Set();
            }

            return moved;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListDueTimesCoreAsync(after, before, resolution, limit, token), cancellationToken);

    private async ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesCoreAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, TimeSpan.FromMicroseconds(1));
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        try
        {
            await using var command = _dataSource.CreateCommand(ListDueTimesSql);
            command.Parameters.Add(TimestampTz(after));
            command.Parameters.Add(TimestampTz(before));
            command.Parameters.Add(P(resolution.Ticks / TimeSpan.TicksPerMicrosecond));
            command.Parameters.Add(P(limit));
            var times = new List<DateTimeOffset>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                times.Add(DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(0) * TimeSpan.TicksPerMicrosecond));
            }

            return times;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> PurgeExpiredAsync(int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => PurgeExpiredCoreAsync(limit, token), cancellationToken);

    private async ValueTask<int> PurgeExpiredCoreAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        try
        {
            await FoldQueueCountsIfDueAsync(cancellationToken).ConfigureAwait(false);
            await using var command = _dataSource.CreateCommand(PurgeSql);
            command.Parameters.Add(TimestampTz(Now()));
            command.Parameters.Add(P(limit));
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
