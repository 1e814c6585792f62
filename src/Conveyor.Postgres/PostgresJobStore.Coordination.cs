using System.Text.Json;
using Conveyor.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Takes the lock if it is free, expired, or already ours (then extends it). $1 name, $2 owner, $3 expiry,
    // $4 now. Returns a row when taken.
    private const string AcquireLockTemplate = """
        INSERT INTO :"schema".locks AS l (name, owner, expires_at) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
        WHERE l.owner = excluded.owner OR l.expires_at <= $4
        RETURNING 1
        """;

    // $1 name, $2 owner. Returns the number of rows deleted.
    private const string ReleaseLockTemplate = """DELETE FROM :"schema".locks WHERE name = $1 AND owner = $2""";

    // Makes the key 'processing' for the attempt ($2 job id, $3 lease token) until $4 when there is no record, it
    // expired ($5 now), or it is 'processing' under a lease of the same job. Either way the row is ours or locked by
    // ON CONFLICT (which locks the row it refuses to update) until the batch's transaction ends; BeginKeyReadTemplate
    // then reads it.
    private const string BeginKeyTemplate = """
        INSERT INTO :"schema".idempotency_records AS r (key, state, job_id, lease_token, expires_at, finished_at)
        VALUES ($1, 'processing', $2, $3, $4, NULL)
        ON CONFLICT (key) DO UPDATE SET state = 'processing', job_id = excluded.job_id, lease_token = excluded.lease_token,
            expires_at = excluded.expires_at, finished_at = NULL
        WHERE r.expires_at <= $5 OR (r.state = 'processing' AND r.job_id = excluded.job_id)
        """;

    // The record BeginKeyTemplate just took or locked ($1 key; $2 job id, $3 lease token of the attempt): one row
    // (state, job_id, expires_at, finished_at), state 'started' when it is 'processing' under the attempt's lease. A
    // statement of its own, so that it reads a snapshot taken after the lock was granted: the upsert's own SELECT read
    // the snapshot taken before it waited for the lock, and so saw a record its owner completed meanwhile as still in
    // progress (the duplicate then waited a whole lease before it was skipped).
    private const string BeginKeyReadTemplate = """
        SELECT CASE WHEN r.state = 'processing' AND r.job_id = $2 AND r.lease_token = $3 THEN 'started' ELSE r.state END,
               r.job_id, r.expires_at, r.finished_at
        FROM :"schema".idempotency_records r WHERE r.key = $1
        """;

    // Moves the expiry of the claims ($2 keys, $3 job ids, $4 lease tokens) still 'processing' under their owner to $1.
    private const string ExtendKeysTemplate = """
        UPDATE :"schema".idempotency_records AS r SET expires_at = $1
        FROM unnest($2::text[], $3::text[], $4::bigint[]) AS c(key, job_id, lease_token)
        WHERE r.key = c.key AND r.state = 'processing' AND r.job_id = c.job_id AND r.lease_token = c.lease_token
        """;

    // Makes the key 'done' by ($2, $3), finished $5, kept until $4, when that owner holds it or no one else does
    // (no record, or an expired one). Returns a row when done.
    private const string CompleteKeyTemplate = """
        INSERT INTO :"schema".idempotency_records AS r (key, state, job_id, lease_token, expires_at, finished_at)
        VALUES ($1, 'done', $2, $3, $4, $5)
        ON CONFLICT (key) DO UPDATE SET state = 'done', job_id = excluded.job_id, lease_token = excluded.lease_token,
            expires_at = excluded.expires_at, finished_at = excluded.finished_at
        WHERE (r.job_id = excluded.job_id AND r.lease_token = excluded.lease_token) OR r.expires_at <= $5
        RETURNING 1
        """;

    // Deletes the key's record when it is 'processing' under ($2, $3). Returns the number of rows deleted.
    private const string ReleaseKeyTemplate = """
        DELETE FROM :"schema".idempotency_records
        WHERE key = $1 AND state = 'processing' AND job_id = $2 AND lease_token = $3
        """;

    // $1 id, $2 host, $3 process id, $4 queues jsonb, $5 concurrency, $6 active jobs, $7 started at,
    // $8 last heartbeat, $9 expiry.
    private const string HeartbeatTemplate = """
        INSERT INTO :"schema".servers AS s (id, host, process_id, queues, concurrency, active_jobs, started_at, last_heartbeat_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET host = excluded.host, process_id = excluded.process_id, queues = excluded.queues,
            concurrency = excluded.concurrency, active_jobs = excluded.active_jobs, started_at = excluded.started_at,
            last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at
        """;

    // $1 id.
    private const string RemoveServerTemplate = """DELETE FROM :"schema".servers WHERE id = $1""";

    // $1 now. The servers whose registration has not expired, ordered by id.
    private const string ListServersTemplate = """
        SELECT id, host, process_id, queues, concurrency, active_jobs, started_at, last_heartbeat_at, expires_at
        FROM :"schema".servers WHERE expires_at > $1 ORDER BY id
        """;

    private string AcquireLockSql => field ??= Sql(AcquireLockTemplate);

    private string ReleaseLockSql => field ??= Sql(ReleaseLockTemplate);

    private string BeginKeySql => field ??= Sql(BeginKeyTemplate);

    private string BeginKeyReadSql => field ??= Sql(BeginKeyReadTemplate);

    private string ExtendKeysSql => field ??= Sql(ExtendKeysTemplate);

    private string CompleteKeySql => field ??= Sql(CompleteKeyTemplate);

    private string ReleaseKeySql => field ??= Sql(ReleaseKeyTemplate);

    private string HeartbeatSql => field ??= Sql(HeartbeatTemplate);

    private string RemoveServerSql => field ??= Sql(RemoveServerTemplate);

    private string ListServersSql => field ??= Sql(ListServersTemplate);

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryAcquireLockCoreAsync(name, owner, ttl, token), cancellationToken);

    private async ValueTask<bool> TryAcquireLockCoreAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        var now = Now();
        return await ExecuteAsync(AcquireLockSql, cancellationToken, P(name), P(owner), TimestampTz(now + ttl), TimestampTz(now)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ReleaseLockCoreAsync(name, owner, token), cancellationToken);

    private async ValueTask<bool> ReleaseLockCoreAsync(string name, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        return await ExecuteAsync(ReleaseLockSql, cancellationToken, P(name), P(owner)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    /// <remarks>One round trip: the begin and its read once per key in one batch (one implicit transaction).</remarks>
    public ValueTask<IReadOnlyList<IdempotencyBeginResult>> TryBeginIdempotencyKeysAsync(IReadOnlyList<IdempotencyBegin> begins, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryBeginIdempotencyKeysCoreAsync(begins, token), cancellationToken);

    private async ValueTask<IReadOnlyList<IdempotencyBeginResult>> TryBeginIdempotencyKeysCoreAsync(IReadOnlyList<IdempotencyBegin> begins, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begins);
        foreach (var begin in begins)
        {
            ArgumentException.ThrowIfNullOrEmpty(begin.Key, nameof(begins));
            ArgumentException.ThrowIfNullOrEmpty(begin.Owner.JobId, nameof(begins));
        }

        // In key order, so that two servers' batches lock the records they share in the same order (no deadlock).
        var order = Enumerable.Range(0, begins.Count).OrderBy(i => begins[i].Key, StringComparer.Ordinal).ToList();
        var results = new IdempotencyBeginResult?[begins.Count];
        var conflicts = 0;
        try
        {
            // Each key's read follows the statement that locked its row, so it finds the record; the runs are a guard
            // (a key the read did not find is begun again), and what runs again after a deadlock.
            for (var run = 0; order.Count > 0;)
            {
                if (run == 10)
                {
                    throw new InvalidOperationException($"The idempotency record '{begins[order[0]].Key}' refused the start ten times and was never visible.");
                }

                await using var batch = _dataSource.CreateBatch();
                foreach (var i in order)
                {
                    var command = new NpgsqlBatchCommand(BeginKeySql);
                    command.Parameters.Add(P(begins[i].Key));
                    command.Parameters.Add(P(begins[i].Owner.JobId));
                    command.Parameters.Add(P(begins[i].Owner.LeaseToken));
                    command.Parameters.Add(TimestampTz(begins[i].ExpiresAt));
                    command.Parameters.Add(TimestampTz(Now()));
                    batch.BatchCommands.Add(command);
                    var readKey = new NpgsqlBatchCommand(BeginKeyReadSql);
                    readKey.Parameters.Add(P(begins[i].Key));
                    readKey.Parameters.Add(P(begins[i].Owner.JobId));
                    readKey.Parameters.Add(P(begins[i].Owner.LeaseToken));
                    batch.BatchCommands.Add(readKey);
                }

                var read = new List<(int Index, IdempotencyBeginResult Result)>(order.Count);
                try
                {
                    await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    foreach (var i in order)
                    {
                        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            read.Add((i, reader.GetString(0) switch
                            {
                                "started" => IdempotencyBeginResult.Started,
                                "done" => IdempotencyBeginResult.AlreadyDone(reader.GetString(1), JobRows.Time(reader, 3)),
                                _ => IdempotencyBeginResult.InProgress(reader.GetString(1), JobRows.Time(reader, 2)),
                            }));
                        }

                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (PostgresException conflict) when (PostgresFaults.IsConflict(conflict.SqlState) && ++conflicts < 5 && System.Transactions.Transaction.Current is null)
                {
                    // PostgreSQL rolled the whole batch back to break a deadlock with a transaction that holds some of
                    // these records (an acknowledgement completing its key): nothing of this run holds, so it runs
                    // again. Answered as a fault, it would run a fail-open handler without its key.
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * conflicts)), TimeProvider.System, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                foreach (var (i, result) in read)
                {
                    results[i] = result;
                }

                run++;

                order.RemoveAll(i => results[i] is not null);
            }

            return Array.ConvertAll(results, r => r!.Value);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> ExtendIdempotencyKeysAsync(IReadOnlyList<IdempotencyClaim> claims, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ExtendIdempotencyKeysCoreAsync(claims, expiresAt, token), cancellationToken);

    private async ValueTask<int> ExtendIdempotencyKeysCoreAsync(IReadOnlyList<IdempotencyClaim> claims, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count == 0)
        {
            return 0;
        }

        var keys = new string?[claims.Count];
        var jobIds = new string?[claims.Count];
        var tokens = new long[claims.Count];
        for (var i = 0; i < claims.Count; i++)
        {
            (keys[i], jobIds[i], tokens[i]) = (claims[i].Key, claims[i].Owner.JobId, claims[i].Owner.LeaseToken);
        }

        return await ExecuteAsync(ExtendKeysSql, cancellationToken, TimestampTz(expiresAt), TextArray(keys), TextArray(jobIds), P(tokens)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<bool> CompleteIdempotencyKeyAsync(string key, LeaseRef owner, TimeSpan ttl, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => CompleteIdempotencyKeyCoreAsync(key, owner, ttl, token), cancellationToken);

    private async ValueTask<bool> CompleteIdempotencyKeyCoreAsync(string key, LeaseRef owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(owner.JobId, nameof(owner));
        var now = Now();
        return await ExecuteAsync(CompleteKeySql, cancellationToken, P(key), P(owner.JobId), P(owner.LeaseToken), TimestampTz(now + ttl), TimestampTz(now)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseIdempotencyKeyAsync(string key, LeaseRef owner, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ReleaseIdempotencyKeyCoreAsync(key, owner, token), cancellationToken);

    private async ValueTask<bool> ReleaseIdempotencyKeyCoreAsync(string key, LeaseRef owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return await ExecuteAsync(ReleaseKeySql, cancellationToken, P(key), P(owner.JobId ?? string.Empty), P(owner.LeaseToken)).ConfigureAwait(false) > 0;
    }

    /// <summary>Settles the idempotency record an acknowledgement carries; runs in the acknowledgement's batch.</summary>
    private NpgsqlBatchCommand SettleIdempotencyKeyCommand(JobAcknowledgement ack)
    {
        var command = new NpgsqlBatchCommand(ack.CompletesIdempotencyKey ? CompleteKeySql : ReleaseKeySql);
        command.Parameters.Add(P(ack.IdempotencyKey!));
        command.Parameters.Add(P(ack.JobId));
        command.Parameters.Add(P(ack.LeaseToken));
        if (ack.CompletesIdempotencyKey)
        {
            var now = Now();
            command.Parameters.Add(TimestampTz(now + ack.IdempotencyKeepDoneFor));
            command.Parameters.Add(TimestampTz(now));
        }

        return command;
    }

    /// <inheritdoc />
    public ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => HeartbeatServerCoreAsync(server, token), cancellationToken);

    private async ValueTask HeartbeatServerCoreAsync(ServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var queues = JsonSerializer.Serialize(
            server.Queues as Dictionary<string, int> ?? new Dictionary<string, int>(server.Queues),
            PostgresJsonContext.Default.DictionaryStringInt32);
        await ExecuteAsync(
            HeartbeatSql,
            cancellationToken,
            P(server.Id),
            P(server.Host),
            P(server.ProcessId),
            new Npgsql.NpgsqlParameter { Value = queues, NpgsqlDbType = NpgsqlDbType.Jsonb },
            P(server.Concurrency),
            P(server.ActiveJobs),
            TimestampTz(server.StartedAt),
            TimestampTz(server.LastHeartbeatAt),
            TimestampTz(server.ExpiresAt)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => RemoveServerCoreAsync(serverId, token), cancellationToken);

    private async ValueTask RemoveServerCoreAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        await ExecuteAsync(RemoveServerSql, cancellationToken, P(serverId)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListServersCoreAsync(token), cancellationToken);

    private async ValueTask<IReadOnlyList<ServerInfo>> ListServersCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(ListServersSql);
            command.Parameters.Add(TimestampTz(Now()));
            var servers = new List<ServerInfo>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                servers.Add(new ServerInfo
                {
                    Id = reader.GetString(0),
                    Host = reader.GetString(1),
                    ProcessId = reader.GetInt32(2),
                    Queues = JsonSerializer.Deserialize(reader.GetString(3), PostgresJsonContext.Default.DictionaryStringInt32) ?? [],
                    Concurrency = reader.GetInt32(4),
                    ActiveJobs = reader.GetInt32(5),
                    StartedAt = JobRows.Time(reader, 6),
                    LastHeartbeatAt = JobRows.Time(reader, 7),
                    ExpiresAt = JobRows.Time(reader, 8),
                });
            }

            return servers;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>Runs one statement; returns the rows it affected or returned.</summary>
    private async ValueTask<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params Npgsql.NpgsqlParameter[] parameters)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.Parameters.AddRange(parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
