using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <summary>
    /// With <see cref="RedisStoreOptions.WaitForReplicas"/>: waits until the create's writes are on that many replicas of
    /// every primary it wrote to (<see cref="ReplicaAcknowledgements"/>), and fails as unavailable when they are not.
    /// Without it a create is answered once a primary has it, which a failover can then lose (docs/redis.md,
    /// "Acknowledged writes and failover").
    /// </summary>
    /// <param name="jobs">The jobs created.</param>
    /// <param name="connectionChangesBefore"><see cref="ReplicaAcknowledgements.ConnectionChanges"/> before the writes.</param>
    /// <param name="coordination">The create wrote a batch (the coordination slot) too.</param>
    private Task EnsureReplicatedAsync(IReadOnlyList<NewJob> jobs, long connectionChangesBefore, bool coordination = false) =>
        _replication.Enabled ? EnsureReplicatedAsync(WrittenBy(jobs, coordination), connectionChangesBefore) : Task.CompletedTask;

    /// <summary>The same for the primaries that hold <paramref name="written"/>; null for every primary.</summary>
    private Task EnsureReplicatedAsync(IEnumerable<RedisKey>? written, long connectionChangesBefore)
    {
        if (!_replication.Enabled)
        {
            return Task.CompletedTask;
        }

        Dictionary<System.Net.EndPoint, IServer> servers;
        try
        {
            servers = Primaries(written);
        }
        catch (Exception e) when (e is not JobStoreUnavailableException)
        {
            // No primary known for a slot (a failover under way): the writes are in doubt.
            return Task.FromException(new JobStoreUnavailableException(
                $"No Redis primary could be found to confirm the write on its replicas (Conveyor:Redis:WaitForReplicas): {e.Message} " +
                "It may be stored, or lost at a failover. Retry with the same job ids or Idempotency-Key.", e));
        }

        return _replication.EnsureAsync(servers.Values, connectionChangesBefore);
    }

    /// <summary>
    /// Before a create's writes, with <see cref="RedisStoreOptions.WaitForReplicas"/>: refuses it, nothing written, when a
    /// primary it would write to answered too few replicas last time (<see cref="ReplicaAcknowledgements.EnsureWritableAsync"/>).
    /// Costs nothing while every primary answered enough. Called once, before a call's first write: a refusal after some
    /// of its jobs were stored would say nothing was.
    /// </summary>
    private Task EnsureWritableAsync(IReadOnlyList<NewJob> jobs, bool coordination = false) =>
        _replication.AnyShort ? EnsureWritableAsync(WrittenBy(jobs, coordination)) : Task.CompletedTask;

    /// <summary>The same for the primaries that hold <paramref name="written"/>; null for every primary.</summary>
    private Task EnsureWritableAsync(IEnumerable<RedisKey>? written)
    {
        if (!_replication.AnyShort)
        {
            return Task.CompletedTask;
        }

        Dictionary<System.Net.EndPoint, IServer> servers;
        try
        {
            servers = Primaries(written);
        }
        catch (Exception e) when (e is not JobStoreUnavailableException)
        {
            // No primary known for a slot: the write meets the failover itself, and the wait after it decides.
            return Task.CompletedTask;
        }

        return _replication.EnsureWritableAsync(servers.Values);
    }

    /// <summary>The primaries that hold <paramref name="written"/>; every primary when it is null.</summary>
    private Dictionary<System.Net.EndPoint, IServer> Primaries(IEnumerable<RedisKey>? written)
    {
        var servers = new Dictionary<System.Net.EndPoint, IServer>();
        if (written is null)
        {
            foreach (var server in _connection!.GetServers())
            {
                if (!server.IsReplica)
                {
                    servers.TryAdd(server.EndPoint, server);
                }
            }
        }
        else
        {
            foreach (var key in written)
            {
                var server = _connection!.GetServer(key, flags: CommandFlags.DemandMaster);
                servers.TryAdd(server.EndPoint, server);
            }
        }

        return servers;
    }

    /// <summary>
    /// The keys a create of <paramref name="jobs"/> writes: their queues' and, on a Cluster, their id lookups, unique keys
    /// and the queue set. Null (every primary) for a Cluster create of jobs with dependencies or a batch, whose links and
    /// counts reach the slots of other queues and the coordination slot.
    /// </summary>
    private IEnumerable<RedisKey>? WrittenBy(IReadOnlyList<NewJob> jobs, bool coordination)
    {
        var cluster = !RegistersQueueInScript();
        if (cluster && (coordination || jobs.Any(static j => j.HasFlow)))
        {
            return null;
        }

        var keys = new List<RedisKey>(cluster ? jobs.Count + 1 : 1);
        foreach (var job in jobs)
        {
            keys.Add(QueueKeys(job.Queue).Pending);
            if (!cluster)
            {
                // One node: one primary, whatever the key.
                return keys;
            }

            if (!JobId.IsGenerated(job.Id))
            {
                keys.Add(_keys.IdLookup(job.Id));
            }

            if (job.UniqueKey is { } unique)
            {
                keys.Add(_keys.UniqueKey(job.Tenant, unique));
            }
        }

        if (cluster)
        {
            keys.Add(_keys.Queues);
        }

        return keys;
    }
}
