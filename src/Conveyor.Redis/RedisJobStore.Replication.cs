using System.Globalization;
using System.Net;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <summary>
    /// With <see cref="RedisStoreOptions.WaitForReplicas"/>: waits until that many replicas of every primary that holds
    /// a key the create wrote have what this process wrote there (WAIT, on the connection the writes went through),
    /// and fails as unavailable when fewer answer in time. Without it a create is answered once a primary has it, which a
    /// failover can then lose (docs/redis.md, "Acknowledged writes and failover").
    /// </summary>
    private Task EnsureReplicatedAsync(IReadOnlyList<NewJob> jobs, bool coordination = false) =>
        _options.WaitForReplicas == 0 ? Task.CompletedTask : EnsureReplicatedAsync(WrittenBy(jobs, coordination));

    /// <summary>The same for the primaries that hold <paramref name="written"/>.</summary>
    private async Task EnsureReplicatedAsync(IEnumerable<RedisKey> written)
    {
        var replicas = _options.WaitForReplicas;
        if (replicas == 0)
        {
            return;
        }

        var timeout = (long)Math.Ceiling(_options.WaitForReplicasTimeout.TotalMilliseconds);
        var waits = new Dictionary<EndPoint, Task<RedisResult>>();
        foreach (var key in written)
        {
            var server = _connection!.GetServer(key);
            if (!waits.ContainsKey(server.EndPoint))
            {
                waits[server.EndPoint] = server.ExecuteAsync("WAIT", replicas, timeout);
            }
        }

        foreach (var (endpoint, wait) in waits)
        {
            var acknowledged = (long)await wait.ConfigureAwait(false);
            if (acknowledged < replicas)
            {
                var within = string.Create(CultureInfo.InvariantCulture, $"{acknowledged} of the {replicas} replicas Conveyor:Redis:WaitForReplicas asks for within {_options.WaitForReplicasTimeout.TotalMilliseconds} ms");
                throw new JobStoreUnavailableException(
                    $"Redis at {endpoint} had the write on {within}: it may be lost if that primary fails over, or may be stored. " +
                    "Retry with the same job ids or Idempotency-Key; check the primary's replicas (INFO replication).");
            }
        }
    }

    /// <summary>The keys a create of <paramref name="jobs"/> writes: their queues' and, on a Cluster, their id lookups, unique keys and the queue set.</summary>
    private IEnumerable<RedisKey> WrittenBy(IReadOnlyList<NewJob> jobs, bool coordination)
    {
        var cluster = !RegistersQueueInScript();
        foreach (var job in jobs)
        {
            yield return QueueKeys(job.Queue).Pending;
            if (cluster)
            {
                if (!JobId.IsGenerated(job.Id))
                {
                    yield return _keys.IdLookup(job.Id);
                }

                if (job.UniqueKey is { } unique)
                {
                    yield return _keys.UniqueKey(job.Tenant, unique);
                }
            }
        }

        if (cluster)
        {
            yield return _keys.Queues;
        }

        if (coordination || jobs.Any(static j => j.HasFlow))
        {
            yield return _keys.Locks;
        }
    }
}
