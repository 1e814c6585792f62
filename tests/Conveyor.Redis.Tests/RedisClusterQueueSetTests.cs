using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Conveyor.Redis.Tests;

/// <summary>
/// On a real three-master Redis Cluster, the set of queue names lives in a slot of its own. Only an instance's first
/// enqueue to a queue writes it: later creates touch their queue's slot alone, so a hung primary owning the set's slot
/// holds up no create on a queue it does not own, and a create whose set write fails still reports its stored job.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterQueueSetTests
{
    [RedisFact]
    public async Task AnEnqueueToAKnownQueue_SendsNothingToTheQueueSetsNode_AndAHungSetNodeFailsNoCreate()
    {
        // The calls to the hung node time out after 3 s (a shorter timeout failed calls to healthy nodes on a loaded
        // machine); the cluster marks a node failed only after 15 s of silence, so it stays up through the hang.
        await using var cluster = await RedisCluster.StartAsync(nodeTimeout: TimeSpan.FromSeconds(15));
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{cluster.Configuration},asyncTimeout=3000,syncTimeout=3000");
        var profiling = new ProfilingSession();
        connection.RegisterProfiler(() => profiling);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "queueset" }, time);
        await store.InitializeAsync(CancellationToken.None);
        var setOwner = RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.Queues));
        var queues = RedisCluster.QueuesOnEveryNode(connection, store.Keys)
            .Where(q => !RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(q).Pending)).Equals(setOwner)).ToList();
        var (known, unseen) = (queues[0], queues[1]);
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(known), CancellationToken.None)).Outcome);
        _ = profiling.FinishProfiling();

        await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(known), CancellationToken.None);
        await store.EnqueueManyAsync([RedisKeyLayoutTests.NewJob(known), RedisKeyLayoutTests.NewJob(known)], CancellationToken.None);
        Assert.Empty(profiling.FinishProfiling().Where(c => c.EndPoint.Equals(setOwner)).Select(c => c.Command));

        // The set's node hangs.
        var setNode = cluster.Node(setOwner);
        setNode.Pause();
        try
        {
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(known), CancellationToken.None)).Outcome);
            var first = RedisKeyLayoutTests.NewJob(unseen);
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(first, CancellationToken.None)).Outcome);
            Assert.True(await connection.GetDatabase().KeyExistsAsync(store.Keys.ForQueue(unseen).Job(first.Id)));
        }
        finally
        {
            setNode.Resume();
        }

        // The set write that failed is made again in the background, with no other enqueue to that queue: promotion,
        // recovery and lookups read the set. (The hung node ran the timed-out write when it resumed; it is taken away
        // again, as a write lost in a failover would be.)
        var db = connection.GetDatabase();
        await RedisServerProcess.WaitUntilAsync(async () => await db.SetContainsAsync(store.Keys.Queues, unseen), TimeSpan.FromSeconds(10), "the resumed node to run the queued write");
        await db.SetRemoveAsync(store.Keys.Queues, unseen);
        await RedisServerProcess.WaitUntilAsync(
            async () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return await db.SetContainsAsync(store.Keys.Queues, unseen);
            },
            TimeSpan.FromSeconds(10),
            "the queue set to hold the queue whose first write failed");

        // A set lost (a Redis restarted without persistence) gets its queues back within the refresh interval.
        await db.KeyDeleteAsync(store.Keys.Queues);
        time.Advance(TimeSpan.FromMinutes(1));
        await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(known), CancellationToken.None);
        await RedisServerProcess.WaitUntilAsync(async () => await db.SetContainsAsync(store.Keys.Queues, known), TimeSpan.FromSeconds(10), "the lost queue set to hold the queue again");

        // And at once, from any read of the set, for every queue this store wrote jobs to.
        await db.KeyDeleteAsync(store.Keys.Queues);
        await store.PromoteDueAsync(10, CancellationToken.None);
        Assert.True(await db.SetContainsAsync(store.Keys.Queues, known));
        Assert.True(await db.SetContainsAsync(store.Keys.Queues, unseen));
    }
}
