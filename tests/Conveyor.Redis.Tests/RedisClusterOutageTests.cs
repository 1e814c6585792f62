using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A primary of a real three-master Redis Cluster dies: while the cluster reports itself down, what the store asks of the
/// surviving nodes (a cross-slot batch, a continuation on another queue, the server heartbeat, whose MULTI the nodes
/// discard with EXECABORT) is a <see cref="JobStoreUnavailableException"/>, as for any Redis that cannot be reached: the
/// API answers 503 with Retry-After and the server logs an outage, not an error of its own. Once the node is back, the
/// same calls work.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterOutageTests
{
    [RedisFact]
    public async Task APrimaryDown_CrossSlotCreatesAndTheHeartbeat_AreStoreUnavailable_ThenWorkOnceItIsBack()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "outage" }, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        var queues = RedisCluster.QueuesOnEveryNode(connection, store.Keys);

        // The node that dies owns neither the coordination slot (the batches, the heartbeat) nor the two queues used.
        var coordination = RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.StoringDue));
        var owners = queues.Select(q => RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(q).Pending))).ToList();
        var dying = owners.First(o => !o.Equals(coordination));
        var (a, b) = (queues[owners.FindIndex(o => o.Equals(coordination))], queues[owners.FindIndex(o => !o.Equals(coordination) && !o.Equals(dying))]);
        var parent = RedisKeyLayoutTests.NewJob(a);
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(parent, CancellationToken.None)).Outcome);

        var node = cluster.Node(dying);
        await node.KillAsync();
        await cluster.WaitForStateAsync("fail", TimeSpan.FromSeconds(30));

        var now = DateTimeOffset.UtcNow;
        var server = new ServerInfo
        {
            Id = "server-a", Host = "host-a", ProcessId = 1, Queues = new Dictionary<string, int> { [a] = 1 }, Concurrency = 1, ActiveJobs = 0,
            StartedAt = now, LastHeartbeatAt = now, ExpiresAt = now.AddSeconds(30),
        };
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.HeartbeatServerAsync(server, CancellationToken.None));
        var refused = NewBatch();
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.CreateBatchAsync(refused, BatchOver(a, b, refused.Id), CancellationToken.None));
        var child = RedisKeyLayoutTests.NewJob(b) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.EnqueueAsync(child, CancellationToken.None));

        await node.StartAgainAsync();
        await cluster.WaitForStateAsync("ok", TimeSpan.FromSeconds(60));
        await store.HeartbeatServerAsync(server, CancellationToken.None);
        var batch = NewBatch();
        Assert.True((await store.CreateBatchAsync(batch, BatchOver(a, b, batch.Id), CancellationToken.None)).AllStored);
    }

    private static NewBatch NewBatch() => new() { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };

    private static List<NewJob> BatchOver(string a, string b, string batchId) =>
        [RedisKeyLayoutTests.NewJob(a) with { BatchId = batchId }, RedisKeyLayoutTests.NewJob(b) with { BatchId = batchId }];
}
