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
    /// <remarks>
    /// Every record lives in the coordination slot (<c>{prefix:coord}</c>), as locks do, so each operation is one
    /// script on one Redis Cluster slot and the janitor's purge finds expired records with one sorted set. The price is
    /// that one node serves every idempotent job's records, one small script per start and per finish; docs/redis.md
    /// weighs this against a hash tag per key.
    /// </remarks>
    /// <remarks>One round trip: begin_idempotency_key.lua once per key, pipelined, all on the coordination slot.</remarks>
    public async ValueTask<IReadOnlyList<IdempotencyBeginResult>> TryBeginIdempotencyKeysAsync(IReadOnlyList<IdempotencyBegin> begins, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begins);
        foreach (var begin in begins)
        {
            ArgumentException.ThrowIfNullOrEmpty(begin.Key, nameof(begins));
            ArgumentException.ThrowIfNullOrEmpty(begin.Owner.JobId, nameof(begins));
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = RedisTime.Value(_time.GetUtcNow());
            var batch = begins.Count > 1 ? db.CreateBatch() : null;
            var tasks = new Task<RedisResult>[begins.Count];
            for (var i = 0; i < tasks.Length; i++)
            {
                var begin = begins[i];
                tasks[i] = EvaluateAsync((IDatabaseAsync?)batch ?? db, RedisScript.BeginIdempotencyKey, [_keys.IdempotencyRecords, _keys.IdempotencyExpiries],
                    [begin.Key, begin.Owner.JobId, begin.Owner.LeaseToken, RedisTime.Value(begin.ExpiresAt), now]);
            }

            batch?.Execute();
            var results = new IdempotencyBeginResult[tasks.Length];
            for (var i = 0; i < tasks.Length; i++)
            {
                var result = (RedisResult[])(await tasks[i].ConfigureAwait(false))!;
                results[i] = (string?)result[0] switch
                {
                    "started" => IdempotencyBeginResult.Started,
                    "done" => IdempotencyBeginResult.AlreadyDone((string)result[1]!, RedisTime.Instant((RedisValue)result[2]) ?? default),
                    _ => IdempotencyBeginResult.InProgress((string)result[1]!, RedisTime.Instant((RedisValue)result[2]) ?? default),
                };
            }

            return results;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> ExtendIdempotencyKeysAsync(IReadOnlyList<IdempotencyClaim> claims, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count == 0)
        {
            return 0;
        }

        var values = new RedisValue[1 + (claims.Count * 3)];
        values[0] = RedisTime.Value(expiresAt);
        for (var i = 0; i < claims.Count; i++)
        {
            values[1 + (i * 3)] = claims[i].Key;
            values[2 + (i * 3)] = claims[i].Owner.JobId;
            values[3 + (i * 3)] = claims[i].Owner.LeaseToken;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            return (int)await EvaluateAsync(db, RedisScript.ExtendIdempotencyKeys, [_keys.IdempotencyRecords, _keys.IdempotencyExpiries], values).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> CompleteIdempotencyKeyAsync(string key, LeaseRef owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(owner.JobId, nameof(owner));
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            return (int)await CompleteIdempotencyKeyAsync(db, key, owner, ttl).ConfigureAwait(false) == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ReleaseIdempotencyKeyAsync(string key, LeaseRef owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            return (int)await ReleaseIdempotencyKeyAsync(db, key, owner).ConfigureAwait(false) == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>Settles the idempotency record an acknowledgement carries, queued on <paramref name="target"/> (the acknowledgement's batch).</summary>
    private Task<RedisResult> SettleIdempotencyKeyAsync(IDatabaseAsync target, JobAcknowledgement ack) =>
        ack.CompletesIdempotencyKey
            ? CompleteIdempotencyKeyAsync(target, ack.IdempotencyKey!, new LeaseRef(ack.JobId, ack.LeaseToken), ack.IdempotencyKeepDoneFor)
            : ReleaseIdempotencyKeyAsync(target, ack.IdempotencyKey!, new LeaseRef(ack.JobId, ack.LeaseToken));

    private Task<RedisResult> CompleteIdempotencyKeyAsync(IDatabaseAsync target, string key, LeaseRef owner, TimeSpan ttl)
    {
        var now = _time.GetUtcNow();
        return EvaluateAsync(target, RedisScript.CompleteIdempotencyKey, [_keys.IdempotencyRecords, _keys.IdempotencyExpiries],
            [key, owner.JobId, owner.LeaseToken, RedisTime.Value(now + ttl), RedisTime.Value(now)]);
    }

    private Task<RedisResult> ReleaseIdempotencyKeyAsync(IDatabaseAsync target, string key, LeaseRef owner) =>
        EvaluateAsync(target, RedisScript.ReleaseIdempotencyKey, [_keys.IdempotencyRecords, _keys.IdempotencyExpiries],
            [key, owner.JobId ?? string.Empty, owner.LeaseToken]);

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
