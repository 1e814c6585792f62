using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A three-master Redis Cluster on loopback (ports 7101–7103), with queues spread over slots on every node:
/// each queue script stays in its queue's slot, and operations across queues work node by node; workflows stay on one slot.
/// </summary>
public sealed class RedisClusterTests
{
    private static readonly int[] Ports = [7101, 7102, 7103];

    [RedisFact]
    public async Task Cluster_QueuesOnEveryNode_EnqueueDequeueAckRetryRecoverPromoteAndPurge()
    {
        var nodes = new List<RedisServerProcess>();
        try
        {
            foreach (var port in Ports)
            {
                nodes.Add(await RedisServerProcess.StartAsync(port, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--appendonly", "no"));
            }

            var created = await RedisServerProcess.RunAsync(RedisTestEnvironment.RedisCli, ["--cluster", "create", .. nodes.Select(n => n.Endpoint), "--cluster-replicas", "0", "--cluster-yes"]);
            Assert.Contains("All 16384 slots covered", created, StringComparison.Ordinal);
            foreach (var node in nodes)
            {
                await RedisServerProcess.WaitUntilAsync(async () => (await node.CliAsync("CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal), TimeSpan.FromSeconds(30), $"node {node.Port} to report cluster_state:ok");
            }

            await using var connection = await ConnectionMultiplexer.ConnectAsync(string.Join(",", nodes.Select(n => n.Endpoint)));
            await RunAsync(connection);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task RunAsync(ConnectionMultiplexer connection)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "cluster" }, time);
        await store.InitializeAsync(CancellationToken.None);
        var queues = QueuesOnEveryNode(connection, store.Keys);
        Assert.Equal(3, queues.Select(q => SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(q).Pending))).Distinct().Count());

        // Enqueue in one batch across queues, with a unique key and an explicit id, and one scheduled job per queue.
        var jobs = queues.SelectMany(q => Enumerable.Range(0, 5).Select(_ => RedisKeyLayoutTests.NewJob(q))).ToList();
        jobs[0] = jobs[0] with { Id = "explicit-1", UniqueKey = "only-once", UniqueUntil = time.GetUtcNow().AddHours(1) };
        var results = await store.EnqueueManyAsync(jobs, CancellationToken.None);
        Assert.All(results, r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[1]) with { UniqueKey = "only-once", UniqueUntil = time.GetUtcNow().AddHours(1) }, CancellationToken.None)).Outcome);
        Assert.Equal(EnqueueOutcome.DuplicateId, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[2]) with { Id = "explicit-1" }, CancellationToken.None)).Outcome);
        var scheduled = queues.Select(q => RedisKeyLayoutTests.NewJob(q) with { ProcessAt = time.GetUtcNow().AddMinutes(5) }).ToList();
        await store.EnqueueManyAsync(scheduled, CancellationToken.None);

        // Dequeue across every queue in one request; retry some, let some leases expire, finish the rest.
        var request = new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 2))], Limit = 15, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
        var first = await store.DequeueAsync(request, CancellationToken.None);
        Assert.Equal(15, first.Count);
        Assert.Equal(3, first.Select(j => j.Queue).Distinct().Count());
        var retried = first.Take(3).ToList();
        var abandoned = first.Skip(3).Take(3).ToList();
        var done = first.Skip(6).ToList();
        Assert.Equal(12, await store.AcknowledgeManyAsync(
            [.. retried.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Retry, RetryAt = time.GetUtcNow().AddMinutes(1), Error = new JobError(1, "boom", null, null, time.GetUtcNow()) }),
             .. done.Select(Succeeded)],
            CancellationToken.None));
        var extension = await store.ExtendLeasesAsync(new ExtendLeasesRequest { ServerId = "s", Leases = [.. abandoned.Select(j => new LeaseRef(j.Id, j.LeaseToken))], LeaseDuration = TimeSpan.FromSeconds(30) }, CancellationToken.None);
        Assert.Empty(extension.Lost);

        time.Advance(TimeSpan.FromMinutes(10));
        var recovered = await store.RecoverExpiredLeasesAsync(100, CancellationToken.None);
        Assert.Equal(abandoned.Select(j => j.Id).Order(), recovered.Select(r => r.JobId).Order());
        Assert.All(recovered, r => Assert.Equal(JobState.Pending, r.NewState));
        Assert.Equal(retried.Count + scheduled.Count, await store.PromoteDueAsync(100, CancellationToken.None));

        var stats = await store.GetQueueStatsAsync(CancellationToken.None);
        Assert.Equal(jobs.Count + scheduled.Count - done.Count, stats.Sum(s => s.Pending));
        while (await store.DequeueAsync(request, CancellationToken.None) is { Count: > 0 } leased)
        {
            Assert.Equal(leased.Count, await store.AcknowledgeManyAsync([.. leased.Select(Succeeded)], CancellationToken.None));
        }

        foreach (var job in jobs.Concat(scheduled))
        {
            Assert.Equal(JobState.Succeeded, (await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State);
        }

        var page = await store.ListAsync(new JobQuery { Tenant = TenantId.Default, Limit = 100 }, CancellationToken.None);
        Assert.Equal(jobs.Count + scheduled.Count, page.Jobs.Count);
        time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(jobs.Count + scheduled.Count, await store.PurgeExpiredAsync(1000, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, "explicit-1", CancellationToken.None));
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[1]) with { UniqueKey = "only-once", UniqueUntil = time.GetUtcNow().AddHours(1) }, CancellationToken.None)).Outcome);

        await FanOutAsync(store, queues);
        await FairAsync(store, queues);
        await WorkflowsAsync(store, queues);
    }

    /// <summary>
    /// Workflows in a Cluster: a continuation on its dependency's slot is linked and released by scripts of that slot;
    /// a continuation across slots and a batch (whose record would be on another slot) are refused before anything is
    /// written.
    /// </summary>
    private static async Task WorkflowsAsync(RedisJobStore store, List<string> queues)
    {
        var parent = RedisKeyLayoutTests.NewJob(queues[0]);
        var child = RedisKeyLayoutTests.NewJob(queues[0]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(parent, CancellationToken.None)).Outcome);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(child, CancellationToken.None)).State);
        var request = new DequeueRequest { Queues = [new QueueQuota(queues[0], 10)], Limit = 10, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
        var leased = Assert.Single(await store.DequeueAsync(request, CancellationToken.None));
        Assert.Equal(parent.Id, leased.Id);
        Assert.Equal(1, await store.AcknowledgeManyAsync([Succeeded(leased)], CancellationToken.None));
        Assert.Equal(child.Id, Assert.Single(await store.DequeueAsync(request, CancellationToken.None)).Id);

        var across = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: false)] };
        var refused = await Assert.ThrowsAsync<NotSupportedException>(async () => await store.EnqueueAsync(across, CancellationToken.None));
        Assert.Contains(queues[1], refused.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(TenantId.Default, across.Id, CancellationToken.None));

        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var member = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id };
        await Assert.ThrowsAsync<NotSupportedException>(async () => await store.CreateBatchAsync(batch, [member], CancellationToken.None));
        Assert.Null(await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, member.Id, CancellationToken.None));
    }

    /// <summary>Fair queues on every node: the tenants' lanes live on the queue's slot, so every script stays on one node.</summary>
    private static async Task FairAsync(RedisJobStore store, List<string> queues)
    {
        var request = new DequeueRequest
        {
            Queues = [.. queues.Select(q => new QueueQuota(q, 2))],
            Limit = 6,
            ServerId = "s",
            LeaseDuration = TimeSpan.FromSeconds(30),
            FairQueues = [.. queues.Select(q => new FairQueue(q, ""))],
        };
        while ((await store.DequeueAsync(request with { FairQueues = [] }, CancellationToken.None)).Count > 0)
        {
        }

        // The first fair dequeue marks each queue fair: what is enqueued from here on waits in its tenant's lane.
        Assert.Empty(await store.DequeueAsync(request, CancellationToken.None));
        var backlog = queues.SelectMany(q => Enumerable.Range(0, 20).Select(_ => RedisKeyLayoutTests.NewJob(q) with { Tenant = "tenant-a" })).ToList();
        await store.EnqueueManyAsync(backlog, CancellationToken.None);
        var late = queues.Select(q => RedisKeyLayoutTests.NewJob(q) with { Tenant = "tenant-b" }).ToList();
        Assert.True((await store.EnqueueAllOrNoneAsync([late[0]], CancellationToken.None)).AllStored);
        await store.EnqueueManyAsync(late.Skip(1).ToList(), CancellationToken.None);

        var first = await store.DequeueAsync(request, CancellationToken.None);

        // Two tenants in each queue, two jobs of each queue: one of each tenant.
        Assert.Equal(6, first.Count);
        Assert.Equal(late.Select(j => j.Id).Order(StringComparer.Ordinal), first.Where(j => j.Tenant == "tenant-b").Select(j => j.Id).Order(StringComparer.Ordinal));
        Assert.Equal((queues.Count * 21) - 6, (await store.GetQueueStatsAsync(CancellationToken.None)).Where(s => queues.Contains(s.Queue)).Sum(s => s.Pending));
        var taken = first.Count;
        while (await store.DequeueAsync(request with { FairQueues = [] }, CancellationToken.None) is { Count: > 0 } leased)
        {
            taken += leased.Count;
        }

        Assert.Equal(backlog.Count + late.Count, taken);
    }

    /// <summary>A publish stays all or none in a Cluster: one slot's jobs are stored by one script, a list that spans slots is refused whole.</summary>
    private static async Task FanOutAsync(RedisJobStore store, List<string> queues)
    {
        var oneSlot = Enumerable.Range(0, 3).Select(_ => RedisKeyLayoutTests.NewJob(queues[0])).ToList();
        var stored = await store.EnqueueAllOrNoneAsync(oneSlot, CancellationToken.None);
        Assert.True(stored.AllStored);
        foreach (var job in oneSlot)
        {
            Assert.Equal(JobState.Pending, (await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State);
        }

        var spanning = queues.Select(RedisKeyLayoutTests.NewJob).ToList();
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueAllOrNoneAsync(spanning, CancellationToken.None));
        Assert.All(queues, q => Assert.Contains(q, refused.Message, StringComparison.Ordinal));
        foreach (var job in spanning)
        {
            Assert.Null(await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None));
        }

        var withUniqueKey = oneSlot.Select(_ => RedisKeyLayoutTests.NewJob(queues[0])).ToList();
        withUniqueKey[1] = withUniqueKey[1] with { UniqueKey = "publish-once", UniqueUntil = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueAllOrNoneAsync(withUniqueKey, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, withUniqueKey[0].Id, CancellationToken.None));
    }

    private static JobAcknowledgement Succeeded(LeasedJob job) => new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded };

    /// <summary>Three queue names whose slots belong to three different nodes.</summary>
    private static List<string> QueuesOnEveryNode(ConnectionMultiplexer connection, RedisKeys keys)
    {
        var byNode = new Dictionary<System.Net.EndPoint, string>();
        for (var i = 0; byNode.Count < 3 && i < 1000; i++)
        {
            var queue = $"q{i}";
            byNode.TryAdd(SlotOwner(connection, connection.HashSlot(keys.ForQueue(queue).Pending)), queue);
        }

        return [.. byNode.Values];
    }

    private static System.Net.EndPoint SlotOwner(ConnectionMultiplexer connection, int slot) =>
        connection.GetServers()[0].ClusterConfiguration!.GetBySlot(slot)!.EndPoint!;
}
