using System.Text.Json;
using Conveyor.Storage;
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

    // Records the key unless a record that has not expired exists. $1 key, $2 expiry, $3 now. Returns a row when recorded.
    private const string RecordKeyTemplate = """
        INSERT INTO :"schema".idempotency_keys AS k (key, expires_at) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
        WHERE k.expires_at <= $3
        RETURNING 1
        """;

    // $1 key.
    private const string RemoveKeyTemplate = """DELETE FROM :"schema".idempotency_keys WHERE key = $1""";

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

    private string RecordKeySql => field ??= Sql(RecordKeyTemplate);

    private string RemoveKeySql => field ??= Sql(RemoveKeyTemplate);

    private string HeartbeatSql => field ??= Sql(HeartbeatTemplate);

    private string RemoveServerSql => field ??= Sql(RemoveServerTemplate);

    private string ListServersSql => field ??= Sql(ListServersTemplate);

    /// <inheritdoc />
    public async ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        var now = Now();
        return await ExecuteAsync(AcquireLockSql, cancellationToken, P(name), P(owner), TimestampTz(now + ttl), TimestampTz(now)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        return await ExecuteAsync(ReleaseLockSql, cancellationToken, P(name), P(owner)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryRecordIdempotencyKeyAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = Now();
        return await ExecuteAsync(RecordKeySql, cancellationToken, P(key), TimestampTz(now + ttl), TimestampTz(now)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async ValueTask RemoveIdempotencyKeyAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await ExecuteAsync(RemoveKeySql, cancellationToken, P(key)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken)
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
    public async ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        await ExecuteAsync(RemoveServerSql, cancellationToken, P(serverId)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken)
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
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception))
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
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
