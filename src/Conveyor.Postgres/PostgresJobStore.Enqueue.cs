using System.Runtime.InteropServices;
using Conveyor.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Releases the unique keys whose time to live has passed, so that the insert that follows may take them.
    // $1 tenants text[], $2 unique keys text[], $3 now.
    private const string ReleaseExpiredKeysTemplate = """
        UPDATE :"schema".jobs j SET unique_held = false
        FROM unnest($1::text[], $2::text[]) AS k(tenant, key)
        WHERE j.tenant = k.tenant AND j.unique_key = k.key AND j.unique_held AND j.unique_until <= $3
        """;

    // Stores the jobs that are not duplicates, in input order (so seq keeps their order), and NOTIFYs the jobs
    // channel once per queue that got a pending job. The NOTIFY is delivered when the transaction commits.
    // Per job: $1 ids text[], $2 payloads bytea[], $3 shape numbers int[] (1-based, see JobShapes). Per shape:
    // $4 types, $5 queues, $6 tenants, $7 states (text[]); $8 max_retry int[]; $9 timeouts interval[];
    // $10 deadlines, $11 scheduled_at timestamptz[]; $12 unique keys text[]; $13 unique until timestamptz[];
    // $14 retention interval[]; $15 trace parents text[]. $16 now; $17 channel; $18 echo mark (appended to the
    // queue name in the NOTIFY payload, see PostgresNotifier: '' when the caller commits). Per shape again:
    // $19 failed and $20 cancelled retentions interval[].
    // Returns one row: NULL when every job was stored, otherwise the ids stored (a refused job, whose id exists or
    // whose unique key is held, is missing), so the common case reads one value instead of a row per job.
    private const string EnqueueTemplate = """
        WITH input AS (
            SELECT t.id, s.type, s.queue, s.tenant, s.state, t.payload, s.max_retry, s.timeout, s.deadline,
                   s.scheduled_at, s.unique_key, s.unique_until, s.retention, s.failed_retention, s.cancelled_retention,
                   s.trace_parent, t.ord
            FROM unnest($1::text[], $2::bytea[], $3::int[]) WITH ORDINALITY AS t(id, payload, shape, ord)
            JOIN unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::interval[], $10::timestamptz[],
                        $11::timestamptz[], $12::text[], $13::timestamptz[], $14::interval[], $15::text[], $19::interval[],
                        $20::interval[]) WITH ORDINALITY
                AS s(type, queue, tenant, state, max_retry, timeout, deadline, scheduled_at, unique_key, unique_until,
                     retention, trace_parent, failed_retention, cancelled_retention, shape)
                ON s.shape = t.shape
        ), stored AS (
            INSERT INTO :"schema".jobs (id, tenant, type, queue, state, payload, max_retry, timeout, deadline,
                scheduled_at, enqueued_at, unique_key, unique_until, unique_held, retention, failed_retention,
                cancelled_retention, trace_parent, created_at, updated_at)
            SELECT id, tenant, type, queue, state, payload, max_retry, timeout, deadline,
                scheduled_at, CASE WHEN state = 'pending' THEN $16::timestamptz END, unique_key, unique_until,
                unique_key IS NOT NULL, retention, failed_retention, cancelled_retention, trace_parent, $16, $16
            FROM input ORDER BY ord
            ON CONFLICT DO NOTHING
            RETURNING id, queue, state
        ), notified AS (
            SELECT pg_notify($17, q.queue || $18) FROM (SELECT DISTINCT queue FROM stored WHERE state = 'pending') q
        )
        SELECT CASE WHEN count(*) = cardinality($1::text[]) THEN NULL ELSE coalesce(array_agg(s.id), '{}') END
        FROM (SELECT stored.id FROM stored, (SELECT count(*) FROM notified) n) s
        """;

    // For refused jobs: the job that holds the id or, failing that, the live holder of the unique key.
    // $1 ids, $2 tenants, $3 unique keys (text[]). Returns ord (1-based input position), kind (1 id, 2 key),
    // and the holder's id, state, queue and created_at.
    private const string FindHoldersTemplate = """
        SELECT t.ord, h.kind, h.id, h.state, h.queue, h.created_at
        FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(id, tenant, key, ord)
        CROSS JOIN LATERAL (
            SELECT 1 AS kind, j.id, j.state, j.queue, j.created_at FROM :"schema".jobs j WHERE j.id = t.id
            UNION ALL
            SELECT 2, j.id, j.state, j.queue, j.created_at FROM :"schema".jobs j
            WHERE t.key IS NOT NULL AND j.tenant = t.tenant AND j.unique_key = t.key AND j.unique_held
            ORDER BY 1
            LIMIT 1
        ) h
        """;

    // A refused job whose holder vanished before it was looked up (finished or deleted meanwhile) is tried again.
    private const int EnqueueAttempts = 5;

    private string ReleaseExpiredKeysSql => field ??= Sql(ReleaseExpiredKeysTemplate);

    private string EnqueueSql => field ??= Sql(EnqueueTemplate);

    private string FindHoldersSql => field ??= Sql(FindHoldersTemplate);

    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = await EnqueueManyAsync([job], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => EnqueueManyCoreAsync(jobs, token), cancellationToken);

    private async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return [];
        }

        try
        {
            // Inside an ambient TransactionScope the connection enlists and the insert commits with the caller's
            // transaction, later: then only the NOTIFY, delivered at that commit, may wake this store's workers.
            var enlisted = System.Transactions.Transaction.Current is not null;
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            EnqueueResult[] results;
            if (!enlisted && jobs.Any(static j => j?.HasFlow == true))
            {
                // A job that waits is inserted and linked to what it waits for in one transaction, which locks those jobs
                // by id, where an acknowledgement locks the job it finishes, then what waited for it: when PostgreSQL
                // breaks such a cycle by rolling the transaction back, it runs again.
                results = await RunAgainAfterConflictsAsync(async () =>
                {
                    await using var own = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    var stored = await EnqueueCoreAsync(connection, own, jobs, _notifier.EchoMark, cancellationToken).ConfigureAwait(false);
                    await own.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return stored;
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                results = await EnqueueCoreAsync(connection, null, jobs, enlisted ? string.Empty : _notifier.EchoMark, cancellationToken).ConfigureAwait(false);
            }

            if (!enlisted && results.Any(static r => r is { Outcome: EnqueueOutcome.Enqueued, State: JobState.Pending }))
            {
                _signal.Set();
            }

            return results;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>
    /// Enqueues <paramref name="job"/> on the caller's connection, inside the caller's transaction: the job exists
    /// if and only if that transaction commits, and workers are notified only when it commits. Works with any
    /// transaction on the connection, including one opened by EF Core or Dapper.
    /// </summary>
    /// <param name="connection">An open connection to the database that holds the store's schema.</param>
    /// <param name="transaction">The transaction to enqueue in; null for the connection's current (or no) transaction.</param>
    /// <param name="job">The job, with every default applied (<c>IJobClient.CreateJob</c> builds one).</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>Enqueued, or the duplicate that refused it (the job is then not written).</returns>
    /// <remarks>
    /// A duplicate is a value, not an error, so the caller's transaction stays usable. A transport failure throws
    /// <see cref="JobStoreUnavailableException"/>; the caller's transaction is then lost with its connection.
    /// </remarks>
    public async Task<EnqueueResult> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(job);
        try
        {
            // A job that waits or joins a batch is inserted and then linked: two statements, which must commit together
            // (alone, a failure or crash between them left it waiting for nothing, forever). Without a transaction of
            // the caller's, this call opens one; a transaction the caller began on the connection without passing it
            // makes BeginTransaction refuse, and then the two already share that one.
            if (transaction is null && job.HasFlow && System.Transactions.Transaction.Current is null
                && await TryBeginTransactionAsync(connection, cancellationToken).ConfigureAwait(false) is { } own)
            {
                await using (own)
                {
                    var stored = await EnqueueCoreAsync(connection, own, [job], echoMark: string.Empty, cancellationToken).ConfigureAwait(false);
                    await own.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return stored[0];
                }
            }

            // The caller commits, so this store cannot wake its own workers itself: the NOTIFY carries no echo mark.
            var results = await EnqueueCoreAsync(connection, transaction, [job], echoMark: string.Empty, cancellationToken).ConfigureAwait(false);
            return results[0];
        }
        catch (Exception exception) when (IsUnavailableOnCallersConnection(exception))
        {
            throw Wrap(exception);
        }
    }

    private static async ValueTask<NpgsqlTransaction?> TryBeginTransactionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return null; // a transaction is in progress on the connection
        }
    }

    private async ValueTask<EnqueueResult[]> EnqueueCoreAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<NewJob> jobs, string echoMark, CancellationToken cancellationToken)
    {
        var now = Now();
        var results = new EnqueueResult[jobs.Count];
        var todo = Enumerable.Range(0, jobs.Count).ToList();
        for (var attempt = 1; todo.Count > 0; attempt++)
        {
            var batch = todo.Select(i => jobs[i]).ToArray();
            var stored = await InsertAsync(connection, transaction, batch, now, echoMark, cancellationToken).ConfigureAwait(false);

            var refused = new List<int>();
            foreach (var index in todo)
            {
                var job = jobs[index];
                if (stored is null || stored.Remove(job.Id))
                {
                    results[index] = new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, StateAt(job, now), job.Queue, now);
                }
                else
                {
                    refused.Add(index);
                }
            }

            if (refused.Count == 0)
            {
                break;
            }

            var holders = await FindHoldersAsync(connection, transaction, refused.Select(i => jobs[i]).ToArray(), cancellationToken).ConfigureAwait(false);
            todo = [];
            for (var k = 0; k < refused.Count; k++)
            {
                if (holders[k] is { } holder)
                {
                    results[refused[k]] = holder;
                }
                else if (attempt < EnqueueAttempts)
                {
                    todo.Add(refused[k]);
                }
                else
                {
                    throw new JobStoreUnavailableException($"The job {jobs[refused[k]].Id} was refused as a duplicate, but its holder kept changing; try again.");
                }
            }
        }

        await LinkFlowsAsync(connection, transaction, jobs, results, now, cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>Inserts the jobs in one round trip. Returns the ids stored, or null when every job was stored.</summary>
    private async ValueTask<HashSet<string>?> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewJob[] jobs, DateTimeOffset now, string echoMark, CancellationToken cancellationToken)
    {
        var n = jobs.Length;
        var ids = new string[n];
        var payloads = new byte[n][];
        for (var i = 0; i < n; i++)
        {
            var job = jobs[i];
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            ids[i] = job.Id;
            payloads[i] = AsArray(job.Payload);
        }

        var shapes = new JobShapes(jobs, now);
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (shapes.AnyUniqueKey)
        {
            var release = new NpgsqlBatchCommand(ReleaseExpiredKeysSql);
            release.Parameters.Add(TextArray(shapes.Tenants));
            release.Parameters.Add(TextArray(shapes.UniqueKeys));
            release.Parameters.Add(TimestampTz(now));
            batch.BatchCommands.Add(release);
        }

        var insert = new NpgsqlBatchCommand(EnqueueSql);
        insert.Parameters.Add(TextArray(ids));
        insert.Parameters.Add(new NpgsqlParameter { Value = payloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        insert.Parameters.Add(P(shapes.ShapeOf));
        insert.Parameters.Add(TextArray(shapes.Types));
        insert.Parameters.Add(TextArray(shapes.Queues));
        insert.Parameters.Add(TextArray(shapes.Tenants));
        insert.Parameters.Add(TextArray(shapes.States));
        insert.Parameters.Add(P(shapes.MaxRetries));
        insert.Parameters.Add(new NpgsqlParameter { Value = shapes.Timeouts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval });
        insert.Parameters.Add(TimestampTzArray(shapes.Deadlines));
        insert.Parameters.Add(TimestampTzArray(shapes.ScheduledAts));
        insert.Parameters.Add(TextArray(shapes.UniqueKeys));
        insert.Parameters.Add(TimestampTzArray(shapes.UniqueUntils));
        insert.Parameters.Add(new NpgsqlParameter { Value = shapes.Retentions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval });
        insert.Parameters.Add(TextArray(shapes.TraceParents));
        insert.Parameters.Add(TimestampTz(now));
        insert.Parameters.Add(Text(_jobsChannel));
        insert.Parameters.Add(Text(echoMark));
        insert.Parameters.Add(new NpgsqlParameter { Value = shapes.FailedRetentions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval });
        insert.Parameters.Add(new NpgsqlParameter { Value = shapes.CancelledRetentions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval });
        batch.BatchCommands.Add(insert);

        HashSet<string>? stored = null;
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false))
        {
            stored = new HashSet<string>(reader.GetFieldValue<string[]>(0), StringComparer.Ordinal);
        }

        return stored;
    }

    private async ValueTask<EnqueueResult?[]> FindHoldersAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewJob[] refused, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(FindHoldersSql, connection, transaction);
        command.Parameters.Add(TextArray(refused.Select(j => j.Id).ToArray()));
        command.Parameters.Add(TextArray(refused.Select(j => j.Tenant).ToArray()));
        command.Parameters.Add(TextArray(refused.Select(j => j.UniqueKey).ToArray()));
        var holders = new EnqueueResult?[refused.Length];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = (int)reader.GetInt64(0) - 1;
            var outcome = reader.GetInt32(1) == 1 ? EnqueueOutcome.DuplicateId : EnqueueOutcome.DuplicateUniqueKey;
            holders[index] = new EnqueueResult(
                outcome,
                reader.GetString(2),
                JobStateExtensions.FromStorageName(reader.GetString(3)),
                reader.GetString(4),
                JobRows.Time(reader, 5));
        }

        return holders;
    }

    private static JobState StateAt(NewJob job, DateTimeOffset now) => JobShapes.StateAt(job, now);

    private static byte[] AsArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    private static NpgsqlParameter TextArray(string?[] values) =>
        new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter TimestampTzArray(DateTime?[] values) =>
        new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz };
}
