using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    public async ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var result = await EvaluateAsync(db, RedisScript.AcquireLock, [_keys.Locks, _keys.LockExpiries],
                [name, owner, RedisTime.Value(now), RedisTime.Value(now + ttl)]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var result = await EvaluateAsync(db, RedisScript.ReleaseLock, [_keys.Locks, _keys.LockExpiries],
                [name, owner, RedisTime.Format(NowMicros())]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryRecordIdempotencyKeyAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var result = await EvaluateAsync(db, RedisScript.RecordIdempotencyKey, [_keys.IdempotencyKeys],
                [key, RedisTime.Value(now), RedisTime.Value(now + ttl)]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask RemoveIdempotencyKeyAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            await db.SortedSetRemoveAsync(_keys.IdempotencyKeys, key).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var transaction = db.CreateTransaction();
            _ = transaction.HashSetAsync(_keys.Servers, server.Id, ServerInfoJson.Write(server));
            _ = transaction.SortedSetAddAsync(_keys.ServerExpiries, server.Id, RedisTime.ToMicros(server.ExpiresAt));
            await transaction.ExecuteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var transaction = db.CreateTransaction();
            _ = transaction.HashDeleteAsync(_keys.Servers, serverId);
            _ = transaction.SortedSetRemoveAsync(_keys.ServerExpiries, serverId);
            await transaction.ExecuteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var ids = await db.SortedSetRangeByScoreAsync(_keys.ServerExpiries, NowMicros(), double.PositiveInfinity, Exclude.Start).ConfigureAwait(false);
            if (ids.Length == 0)
            {
                return [];
            }

            var values = await db.HashGetAsync(_keys.Servers, ids).ConfigureAwait(false);
            var servers = new List<ServerInfo>(values.Length);
            foreach (var value in values)
            {
                if (!value.IsNullOrEmpty)
                {
                    servers.Add(ServerInfoJson.Read((byte[])value!));
                }
            }

            servers.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
            return servers;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
