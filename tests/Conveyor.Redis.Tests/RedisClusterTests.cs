using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A three-master Redis Cluster on loopback, with queues spread over slots on every node:
/// each queue script stays in its queue's slot, and operations across queues work node by node; workflows across
/// slots go through the outboxes.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterTests
{
    [RedisFact]
    public async Task Cluster_QueuesOnEveryNode_EnqueueDequeueAckRetryRecoverPromoteAndPurge()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        await RunAsync(connection);
    }

    private static async Task RunAsync(ConnectionMultiplexer connection)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "cluster" }, time);
        await store.InitializeAsync(CancellationToken.None);
        var queues = RedisCluster.QueuesOnEveryNode(connection, store.Keys);
        Assert.Equal(3, queues.Select(q => RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(q).Pending))).Distinct().Count());

        // Enqueue in one batch across queues, with a unique key and an explicit id, and one scheduled job per queue.
        var jobs = queues.SelectMany(q => Enumerable.Range(0, 5).Select(_ => RedisKeyLayoutTests.NewJob(q))).ToList();
        jobs[0] = jobs[0] with { Id = "explicit-1", UniqueKey = "only-once", UniqueUntil = time.GetUtcNow().AddHours(1) };
        var results = await store.EnqueueManyAsync(jobs, CancellationToken.None);
        Assert.All(results, r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[1]) with { UniqueKey = "only-once", UniqueUntil = time.GetUtcNow().AddHours(1) }, CancellationToken.None)).Outcome);
        Assert.Equal(EnqueueOutcome.DuplicateId, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[2]) with { Id = "explicit-1" }, CancellationToken.None)).Outcome);
        // A repeat of the job itself (its unique key on a slot of its own) reports the id, as on a single node.
        Assert.Equal(EnqueueOutcome.DuplicateId, (await store.EnqueueAsync(jobs[0], CancellationToken.None)).Outcome);
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
        await WorkflowsAsync(connection, store, queues, time);
    }

    /// <summary>
    /// Workflows in a Cluster: a continuation on its dependency's slot is linked and released by scripts of that slot;
    /// one across slots, a batch spanning slots and a DAG across queues go through the outboxes (delivered on the
    /// finish's notice), each dependant and callback released exactly once.
    /// </summary>
    private static async Task WorkflowsAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        var parent = RedisKeyLayoutTests.NewJob(queues[0]);
        var child = RedisKeyLayoutTests.NewJob(queues[0]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(parent, CancellationToken.None)).Outcome);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(child, CancellationToken.None)).State);
        Assert.Equal(parent.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);
        Assert.Equal(child.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);

        // A continuation with a unique key: its holder is on a slot of its own, which the one script cannot reach.
        var uniqueChild = RedisKeyLayoutTests.NewJob(queues[0]) with
        {
            UniqueKey = "after-once", UniqueUntil = time.GetUtcNow().AddHours(1), DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)],
        };
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueAsync(uniqueChild, CancellationToken.None));
        Assert.Contains("waits for other jobs", refused.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(TenantId.Default, uniqueChild.Id, CancellationToken.None));

        // In a group (the Jobs API's group commit), before the jobs ahead of it are stored.
        var ahead = RedisKeyLayoutTests.NewJob(queues[0]);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueManyAsync([ahead, uniqueChild], CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, ahead.Id, CancellationToken.None));

        // A batch with every job on one queue still has its record on the coordination slot: refused, and the message
        // does not claim the jobs are across slots.
        var oneQueue = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var uniqueMember = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = oneQueue.Id, UniqueKey = "in-a-batch", UniqueUntil = time.GetUtcNow().AddHours(1) };
        refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateBatchAsync(oneQueue, [uniqueMember], CancellationToken.None));
        Assert.Contains("even all on one queue", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("across slots", refused.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetBatchAsync(oneQueue.Id, TenantId.Default, CancellationToken.None));

        await HandOffAcrossSlotsAsync(store, queues);
        await ContinuationsAcrossSlotsAsync(store, queues);
        await BatchAcrossSlotsAsync(store, queues);
        await RetriedMemberAcrossSlotsAsync(store, queues);
        await DagAcrossQueuesAsync(store, queues);
        await CancelBatchAcrossSlotsAsync(connection, store, queues);
        await CancelledBatchWhoseMembersSucceedAcrossSlotsAsync(store, queues);
        await DeliveryStoppedHalfWayAsync(connection, store, queues, time);
        await DeliveredWithAnEarlierTimeAsync(connection, store, queues, time);
        await StoringStoppedHalfWayAsync(connection, store, queues, time);
        await StoringFailedOverHalfWayAsync(connection, store, queues, time);
        await StoringFailedOverAtItsJournalAsync(connection, store, queues, time);
    }

    /// <summary>
    /// A failover (a transient error) after the journal is written, after the batches' side (stage 1) or after the jobs
    /// too (stage 2): the storing is decided, so the call answers every job stored with its id and the state the plan
    /// gives it (not "unavailable", which would invite a second batch: on a Cluster a batch takes no Idempotency-Key),
    /// and the journal is due at once: the next promoter tick finishes it, not one after the grace. Every job runs
    /// once, and the batch's callback is released once.
    /// </summary>
    private static async Task StoringFailedOverHalfWayAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        foreach (var stage in new[] { 1, 2 })
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var root = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
            var later = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id, ProcessAt = time.GetUtcNow().AddMinutes(1) };
            var branch = RedisKeyLayoutTests.NewJob(queues[1]) with { BatchId = batch.Id, DependsOn = [new JobDependency(root.Id, SuccessOnly: true)] };
            var leaf = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id, DependsOn = [new JobDependency(branch.Id, SuccessOnly: true)] };
            var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
            var jobs = new[] { root, later, branch, leaf, onSuccess };
            EnqueueAllResult created;
            store.StopStoringAfterStage = stage;
            store.StopsStoringAsInFailover = true;
            try
            {
                created = await store.CreateBatchAsync(batch, jobs, CancellationToken.None);
            }
            finally
            {
                store.StopStoringAfterStage = null;
                store.StopsStoringAsInFailover = false;
            }

            Assert.True(created.AllStored);
            Assert.Equal(jobs.Select(j => j.Id), created.Results.Select(r => r.JobId));
            Assert.All(created.Results, r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
            Assert.Equal(
                new[] { JobState.Pending, JobState.Scheduled, JobState.Waiting, JobState.Waiting, JobState.Waiting },
                created.Results.Select(r => r.State));

            // Due at once: the next tick finishes it, with no grace to wait.
            await store.PromoteDueAsync(100, CancellationToken.None);
            Assert.Equal(0, await connection.GetDatabase().SortedSetLengthAsync(store.Keys.StoringDue));
            Assert.Equal(4, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Total);
            Assert.Equal(JobState.Waiting, (await store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);

            var ran = new List<string>();
            foreach (var expected in new[] { root.Id, branch.Id, leaf.Id })
            {
                await WaitForStateAsync(store, expected, JobState.Pending);
                ran.AddRange((await FinishAllAsync(store, queues)).Select(j => j.Id));
            }

            time.Advance(TimeSpan.FromMinutes(2));
            await store.PromoteDueAsync(100, CancellationToken.None);
            ran.AddRange((await FinishAllAsync(store, queues)).Select(j => j.Id));
            await WaitForStateAsync(store, onSuccess.Id, JobState.Pending);
            ran.AddRange((await FinishAllAsync(store, queues)).Select(j => j.Id));
            Assert.Equal(new[] { root.Id, branch.Id, leaf.Id, later.Id, onSuccess.Id }, ran);
            var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Succeeded, 4, 4), (info.State, info.Total, info.Succeeded));

            // Nothing is left to run twice: the grace's tick finds no journal and no job to promote.
            time.Advance(RedisJobStore.StoringGrace + TimeSpan.FromSeconds(1));
            Assert.Equal(0, await store.PromoteDueAsync(100, CancellationToken.None));
            Assert.Empty(await FinishAllAsync(store, queues));
        }
    }

    /// <summary>
    /// A failover as the journal is written, its reply lost (it may stand): the call answers "unavailable" and drops the
    /// journal, so no promoter stores the batch behind the caller's back after the grace.
    /// </summary>
    private static async Task StoringFailedOverAtItsJournalAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var root = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
        var other = RedisKeyLayoutTests.NewJob(queues[1]) with { BatchId = batch.Id };
        store.StopStoringAfterStage = 0;
        store.StopsStoringAsInFailover = true;
        try
        {
            await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.CreateBatchAsync(batch, [root, other], CancellationToken.None));
        }
        finally
        {
            store.StopStoringAfterStage = null;
            store.StopsStoringAsInFailover = false;
        }

        Assert.Equal(0, await connection.GetDatabase().SortedSetLengthAsync(store.Keys.StoringDue));
        time.Advance(RedisJobStore.StoringGrace + TimeSpan.FromSeconds(1));
        await store.PromoteDueAsync(100, CancellationToken.None);
        Assert.Null(await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, root.Id, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, other.Id, CancellationToken.None));
    }

    /// <summary>
    /// A process that dies while storing a workflow across slots (after the batch's side, or after the jobs, before the
    /// links) leaves its journal; a promoter's tick after the grace finishes the storing, each step once: every job
    /// runs once, the batch counts each member once and its callback is released once. A journal whose end a failover
    /// refused after every step (stage 3) is left the same way, and the call answers that the jobs are stored.
    /// </summary>
    private static async Task StoringStoppedHalfWayAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        foreach (var stage in new[] { 1, 2, 3 })
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var root = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
            var branch = RedisKeyLayoutTests.NewJob(queues[1]) with { BatchId = batch.Id, DependsOn = [new JobDependency(root.Id, SuccessOnly: true)] };
            var leaf = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id, DependsOn = [new JobDependency(branch.Id, SuccessOnly: true)] };
            var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
            store.StopStoringAfterStage = stage;
            try
            {
                if (stage == 3)
                {
                    Assert.True((await store.CreateBatchAsync(batch, [root, branch, leaf, onSuccess], CancellationToken.None)).AllStored);
                    Assert.Equal(1, await connection.GetDatabase().SortedSetLengthAsync(store.Keys.StoringDue));
                }
                else
                {
                    await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CreateBatchAsync(batch, [root, branch, leaf, onSuccess], CancellationToken.None));
                }
            }
            finally
            {
                store.StopStoringAfterStage = null;
            }

            Assert.Equal(3, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Total);
            var stored = await store.GetAsync(TenantId.Default, branch.Id, CancellationToken.None);
            Assert.Equal(stage == 1 ? null : JobState.Waiting, stored?.State);

            // Within the grace the journal is left to its process; after it, the promoter finishes the storing.
            await store.PromoteDueAsync(100, CancellationToken.None);
            Assert.Equal(stage == 1 ? null : JobState.Waiting, (await store.GetAsync(TenantId.Default, branch.Id, CancellationToken.None))?.State);
            time.Advance(RedisJobStore.StoringGrace + TimeSpan.FromSeconds(1));
            await store.PromoteDueAsync(100, CancellationToken.None);
            await store.PromoteDueAsync(100, CancellationToken.None);
            Assert.Equal(3, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Total);
            Assert.Equal(0, await connection.GetDatabase().SortedSetLengthAsync(store.Keys.StoringDue));

            var ran = new List<string>();
            foreach (var expected in new[] { root.Id, branch.Id, leaf.Id, onSuccess.Id })
            {
                await WaitForStateAsync(store, expected, JobState.Pending);
                ran.AddRange((await FinishAllAsync(store, queues)).Select(j => j.Id));
            }

            Assert.Equal(new[] { root.Id, branch.Id, leaf.Id, onSuccess.Id }, ran);
            var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Succeeded, 3, 3), (info.State, info.Total, info.Succeeded));
        }
    }

    /// <summary>
    /// The hand-off in a Cluster: the acknowledgement leases the continuation that its own slot's script releases; the one
    /// on another slot is released through the outbox and left pending for a dequeue.
    /// </summary>
    private static async Task HandOffAcrossSlotsAsync(RedisJobStore store, List<string> queues)
    {
        var parent = RedisKeyLayoutTests.NewJob(queues[0]);
        var sameSlot = RedisKeyLayoutTests.NewJob(queues[0]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        var otherSlot = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(parent, CancellationToken.None)).Outcome);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(sameSlot, CancellationToken.None)).State);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(otherSlot, CancellationToken.None)).State);
        var request = new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 10))], Limit = 10, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
        var leased = Assert.Single(await store.DequeueAsync(request, CancellationToken.None));

        var result = await store.AcknowledgeAndTakeReleasedAsync([Succeeded(leased)], request, CancellationToken.None);

        Assert.Equal(1, result.Applied);
        var taken = Assert.Single(result.Leased);
        Assert.Equal((sameSlot.Id, queues[0], 1), (taken.Id, taken.Queue, taken.Attempt));
        Assert.Equal(JobState.Active, (await store.GetAsync(TenantId.Default, sameSlot.Id, CancellationToken.None))!.State);
        await WaitForStateAsync(store, otherSlot.Id, JobState.Pending);
        var dequeued = Assert.Single(await store.DequeueAsync(request, CancellationToken.None));
        Assert.Equal(otherSlot.Id, dequeued.Id);
        Assert.Equal(2, await store.AcknowledgeManyAsync([Succeeded(taken), Succeeded(dequeued)], CancellationToken.None));
    }

    /// <summary>Continuations whose dependency is on another node: released on success, cancelled or failed otherwise, linked after the finish too.</summary>
    private static async Task ContinuationsAcrossSlotsAsync(RedisJobStore store, List<string> queues)
    {
        var parent = RedisKeyLayoutTests.NewJob(queues[0]);
        var failing = RedisKeyLayoutTests.NewJob(queues[0]);
        var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        var onBoth = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true), new JobDependency(failing.Id, SuccessOnly: false)] };
        var cancelled = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(failing.Id, SuccessOnly: true)] };
        var failed = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(failing.Id, SuccessOnly: true, FailIfUnmet: true)] };
        await store.EnqueueManyAsync([parent, failing], CancellationToken.None);
        foreach (var dependant in new[] { onSuccess, onBoth, cancelled, failed })
        {
            Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(dependant, CancellationToken.None)).State);
        }

        await FinishAllAsync(store, queues, failIds: [failing.Id]);
        await WaitForStateAsync(store, onSuccess.Id, JobState.Pending);
        await WaitForStateAsync(store, onBoth.Id, JobState.Pending);
        await WaitForStateAsync(store, cancelled.Id, JobState.Cancelled);
        await WaitForStateAsync(store, failed.Id, JobState.Failed);
        Assert.Contains(failing.Id, (await store.GetAsync(TenantId.Default, failed.Id, CancellationToken.None))!.Errors[^1].Message, StringComparison.Ordinal);

        // Linked after its dependency finished: the link sends the outcome through the outbox at once.
        var late = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(late, CancellationToken.None)).Outcome);
        await WaitForStateAsync(store, late.Id, JobState.Pending);

        var ran = await FinishAllAsync(store, queues);
        Assert.Equal(new[] { onSuccess.Id, onBoth.Id, late.Id }.Order(StringComparer.Ordinal), ran.Select(j => j.Id).Order(StringComparer.Ordinal));
        Assert.Equal(0, await store.DeliverOutboxesAsync(100));
    }

    /// <summary>
    /// The ids of the default tenant's batches (or every tenant's) in <paramref name="state"/>, every page (read on the
    /// coordination slot).
    /// </summary>
    private static async Task<List<string>> ListedAsync(RedisJobStore store, BatchState state, bool everyTenant = false)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var query = new BatchQuery { Tenant = everyTenant ? null : TenantId.Default, State = state, Limit = BatchQuery.MaxLimit, Cursor = cursor };
            var page = await store.ListBatchesAsync(query, CancellationToken.None);
            ids.AddRange(page.Batches.Select(static b => b.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return ids;
    }

    /// <summary>A batch with members on three nodes and its callbacks on two: counts on the batch's slot, each callback released once.</summary>
    private static async Task BatchAcrossSlotsAsync(RedisJobStore store, List<string> queues)
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = queues.SelectMany(q => Enumerable.Range(0, 3).Select(_ => RedisKeyLayoutTests.NewJob(q) with { BatchId = batch.Id })).ToList();
        var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var onComplete = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };
        var created = await store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete], CancellationToken.None);
        Assert.True(created.AllStored);
        Assert.Equal(JobState.Waiting, created.Results[^1].State);
        Assert.Equal(members.Count, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Total);
        Assert.Contains(batch.Id, await ListedAsync(store, BatchState.Running));
        Assert.Contains(batch.Id, await ListedAsync(store, BatchState.Running, everyTenant: true));

        var added = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
        Assert.True((await store.AddToBatchAsync(batch.Id, TenantId.Default, [added], CancellationToken.None))!.AllStored);

        var ran = await FinishAllAsync(store, queues);
        Assert.Equal(members.Count + 1, ran.Count);
        await WaitForStateAsync(store, onSuccess.Id, JobState.Pending);
        await WaitForStateAsync(store, onComplete.Id, JobState.Pending);
        var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Succeeded, members.Count + 1, members.Count + 1), (info.State, info.Total, info.Succeeded));
        Assert.Contains(batch.Id, await ListedAsync(store, BatchState.Succeeded));
        Assert.Contains(batch.Id, await ListedAsync(store, BatchState.Succeeded, everyTenant: true));
        Assert.DoesNotContain(batch.Id, await ListedAsync(store, BatchState.Running));

        Assert.Equal(0, await store.DeliverOutboxesAsync(100));
        var callbacks = await FinishAllAsync(store, queues);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(StringComparer.Ordinal), callbacks.Select(j => j.Id).Order(StringComparer.Ordinal));
        Assert.Null(await store.AddToBatchAsync(batch.Id, TenantId.Default, [RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id }], CancellationToken.None));
        var late = await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[1]) with { BatchId = batch.Id }, CancellationToken.None);
        Assert.Equal((EnqueueOutcome.DependencyNotFound, batch.Id), (late.Outcome, late.JobId));
        Assert.Equal(members.Count + 1, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Total);
        var unknown = await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(BatchId.New(), SuccessOnly: true, OnBatch: true)] }, CancellationToken.None);
        Assert.Equal(EnqueueOutcome.DependencyNotFound, unknown.Outcome);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateBatchAsync(batch, [RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id }], CancellationToken.None));
    }

    /// <summary>
    /// A failed member on another slot than its batch, requeued by hand while the batch runs: its rejoining reaches the
    /// batch through its outbox, once however often it is delivered, and its next end is counted once.
    /// </summary>
    private static async Task RetriedMemberAcrossSlotsAsync(RedisJobStore store, List<string> queues)
    {
        store.DeliversOutboxesOnNotice = false;
        try
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var first = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
            var second = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id };
            var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
            Assert.True((await store.CreateBatchAsync(batch, [first, second, onSuccess], CancellationToken.None)).AllStored);

            // The count of the failure is applied and left in the outbox, as by a process that died before removing it.
            Assert.Equal(first.Id, Assert.Single(await FinishAllAsync(store, [queues[0]], failIds: [first.Id])).Id);
            Assert.Equal(1, await store.DeliverOutboxesAsync(100, remove: false));
            Assert.Equal(1, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Failed);

            Assert.Equal(JobCommandResult.Done, await store.RequeueAsync(TenantId.Default, first.Id, CancellationToken.None));
            Assert.Equal(1, await store.DeliverOutboxesAsync(100, remove: false));
            var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Running, 0, 2), (info.State, info.Failed, info.Unfinished));

            // Delivered again after the rejoining, the earlier end's count is of an older generation: not counted twice.
            Assert.Equal(0, await store.DeliverOutboxesAsync(100, remove: false));
            info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Running, 0, 2), (info.State, info.Failed, info.Unfinished));

            // The rejoining, delivered again beside the count of the member's next end, changes nothing a second time.
            Assert.Equal(first.Id, Assert.Single(await FinishAllAsync(store, [queues[0]])).Id);
            Assert.Equal(1, await store.DeliverOutboxesAsync(100, remove: false));
            Assert.Equal(0, await store.DeliverOutboxesAsync(100));
            info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Running, 1, 0, 1), (info.State, info.Succeeded, info.Failed, info.Unfinished));

            Assert.Equal(second.Id, Assert.Single(await FinishAllAsync(store, [queues[2]])).Id);
            while (await store.DeliverOutboxesAsync(100) > 0)
            {
            }

            info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Succeeded, 2), (info.State, info.Succeeded));
            await WaitForStateAsync(store, onSuccess.Id, JobState.Pending);
            Assert.Equal(onSuccess.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);
        }
        finally
        {
            store.DeliversOutboxesOnNotice = true;
        }
    }

    /// <summary>A fan-out/fan-in across queues on three nodes: the aggregate starts once both branches succeeded, a branch's failure cancels it.</summary>
    private static async Task DagAcrossQueuesAsync(RedisJobStore store, List<string> queues)
    {
        foreach (var failBranch in new[] { false, true })
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var root = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
            var left = RedisKeyLayoutTests.NewJob(queues[1]) with { BatchId = batch.Id, DependsOn = [new JobDependency(root.Id, SuccessOnly: true)] };
            var right = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id, DependsOn = [new JobDependency(root.Id, SuccessOnly: true)] };
            var sameSlot = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id, DependsOn = [new JobDependency(root.Id, SuccessOnly: true)] };
            var aggregate = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id, DependsOn = [new JobDependency(left.Id, SuccessOnly: true), new JobDependency(right.Id, SuccessOnly: true), new JobDependency(sameSlot.Id, SuccessOnly: true)] };
            Assert.True((await store.CreateBatchAsync(batch, [root, left, right, sameSlot, aggregate], CancellationToken.None)).AllStored);

            Assert.Equal(root.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);
            await WaitForStateAsync(store, left.Id, JobState.Pending);
            await WaitForStateAsync(store, right.Id, JobState.Pending);
            Assert.Equal(JobState.Waiting, (await store.GetAsync(TenantId.Default, aggregate.Id, CancellationToken.None))!.State);
            var branches = await FinishAllAsync(store, queues, failIds: failBranch ? [right.Id] : []);
            Assert.Equal(3, branches.Count);
            await WaitForStateAsync(store, aggregate.Id, failBranch ? JobState.Cancelled : JobState.Pending);
            if (!failBranch)
            {
                Assert.Equal(aggregate.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);
            }

            await WaitUntilAsync(async () => (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.State == (failBranch ? BatchState.Completed : BatchState.Succeeded), "the DAG's batch to finish");
        }
    }

    /// <summary>Cancelling a batch whose members are on three nodes: each member cancelled on its slot, the complete callback released once.</summary>
    private static async Task CancelBatchAcrossSlotsAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues)
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = queues.Select(q => RedisKeyLayoutTests.NewJob(q) with { BatchId = batch.Id }).ToList();
        var onComplete = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };
        Assert.True((await store.CreateBatchAsync(batch, [.. members, onComplete], CancellationToken.None)).AllStored);
        Assert.True(await store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));
        Assert.False(await store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));
        foreach (var member in members)
        {
            var cancelled = (await store.GetAsync(TenantId.Default, member.Id, CancellationToken.None))!;
            Assert.Equal(JobState.Cancelled, cancelled.State);
            Assert.Equal(WorkflowMessages.BatchCancelled(batch.Id), Assert.Single(cancelled.Errors).Message);
        }

        await WaitForStateAsync(store, onComplete.Id, JobState.Pending);
        Assert.Equal(members.Count, (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.Cancelled);
        Assert.Equal(onComplete.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);

        // A cancel cut short after the batch's own step (its members' slots never reached): calling it again cancels
        // the members and answers false, as for any batch no longer running.
        var cut = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var unreached = queues.Select(q => RedisKeyLayoutTests.NewJob(q) with { BatchId = cut.Id }).ToList();
        Assert.True((await store.CreateBatchAsync(cut, unreached, CancellationToken.None)).AllStored);
        await connection.GetDatabase().HashSetAsync(store.Keys.Batch(cut.Id), "st", "cancelled");
        Assert.False(await store.CancelBatchAsync(cut.Id, TenantId.Default, CancellationToken.None));
        foreach (var member in unreached)
        {
            var cancelled = (await store.GetAsync(TenantId.Default, member.Id, CancellationToken.None))!;
            Assert.Equal(JobState.Cancelled, cancelled.State);
            Assert.Equal(WorkflowMessages.BatchCancelled(cut.Id), Assert.Single(cancelled.Errors).Message);
        }

        Assert.False(await store.CancelBatchAsync(cut.Id, "another-tenant", CancellationToken.None));
    }

    /// <summary>
    /// A delivery that stops between applying an entry and removing it (its process died) leaves the entry; every
    /// later delivery applies it again, which changes nothing: a dependant waiting for two jobs on two other nodes
    /// and a batch count its callback on exactly once; the promoter's tick delivers what is left.
    /// </summary>
    private static async Task DeliveryStoppedHalfWayAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        store.DeliversOutboxesOnNotice = false;
        try
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var first = RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id };
            var second = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id };
            var both = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(first.Id, SuccessOnly: true), new JobDependency(second.Id, SuccessOnly: true)] };
            var onSuccess = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
            Assert.True((await store.CreateBatchAsync(batch, [first, second, both, onSuccess], CancellationToken.None)).AllStored);

            Assert.Equal(first.Id, Assert.Single(await FinishAllAsync(store, [queues[0]])).Id);
            Assert.Equal(2, await store.DeliverOutboxesAsync(100, remove: false));
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(0, await store.DeliverOutboxesAsync(100, remove: false));
            }

            Assert.Equal(JobState.Waiting, (await store.GetAsync(TenantId.Default, both.Id, CancellationToken.None))!.State);
            var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Running, 1), (info.State, info.Succeeded));

            Assert.Equal(second.Id, Assert.Single(await FinishAllAsync(store, [queues[2]])).Id);
            Assert.Equal(2, await store.DeliverOutboxesAsync(100, remove: false));
            Assert.Equal(JobState.Pending, (await store.GetAsync(TenantId.Default, both.Id, CancellationToken.None))!.State);
            Assert.Equal(JobState.Waiting, (await store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);

            // The batch's finish put the callback's release in the coordination slot's outbox: the promoter delivers it
            // with the entries left behind, each again a no-op; the promoter of a process that never enqueued too.
            await using (var worker = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "cluster" }, time))
            {
                await worker.InitializeAsync(CancellationToken.None);
                worker.DeliversOutboxesOnNotice = false;
                await worker.PromoteDueAsync(100, CancellationToken.None);
            }

            Assert.Equal(JobState.Pending, (await store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);
            info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Succeeded, 2), (info.State, info.Succeeded));
            Assert.Equal(0, await store.DeliverOutboxesAsync(100));
            Assert.Equal(new[] { both.Id, onSuccess.Id }.Order(StringComparer.Ordinal), (await FinishAllAsync(store, queues)).Select(j => j.Id).Order(StringComparer.Ordinal));
        }
        finally
        {
            store.DeliversOutboxesOnNotice = true;
        }
    }

    /// <summary>
    /// A delivery whose time is earlier than the finishes it delivers: it takes its time before its reads run, and may
    /// read entries that acknowledgements begun after that time wrote meanwhile (or it runs in a process whose clock is
    /// behind). A dependant on another slot, a batch on the coordination slot, its callback and a dependant linked after
    /// its dependency finished are released (and the batch finished) no earlier than what they waited for ended, as on
    /// one node: an outside run on a Cluster saw steps start up to 12 ms before their dependency completed. The
    /// acknowledging store's clock is 10 s ahead of the delivering one's.
    /// </summary>
    private static async Task DeliveredWithAnEarlierTimeAsync(ConnectionMultiplexer connection, RedisJobStore store, List<string> queues, FakeTimeProvider time)
    {
        store.DeliversOutboxesOnNotice = false;
        try
        {
            await using var acknowledging = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "cluster" }, new FakeTimeProvider(time.GetUtcNow().AddSeconds(10)));
            await acknowledging.InitializeAsync(CancellationToken.None);
            acknowledging.DeliversOutboxesOnNotice = false;
            var parent = RedisKeyLayoutTests.NewJob(queues[0]);
            var child = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var members = new[] { RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id }, RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = batch.Id } };
            var onComplete = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(parent, CancellationToken.None)).Outcome);
            Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(child, CancellationToken.None)).State);
            Assert.True((await store.CreateBatchAsync(batch, [.. members, onComplete], CancellationToken.None)).AllStored);
            Assert.Equal(3, (await FinishAllAsync(acknowledging, queues)).Count);

            // Linked once its dependency has finished: the link's entry carries when it did.
            var late = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(late, CancellationToken.None)).Outcome);
            while (await store.DeliverOutboxesAsync(100) > 0)
            {
            }

            var ended = (await store.GetAsync(TenantId.Default, parent.Id, CancellationToken.None))!.CompletedAt;
            Assert.Equal(time.GetUtcNow().AddSeconds(10), ended);
            var membersEnded = new List<DateTimeOffset?>();
            foreach (var member in members)
            {
                membersEnded.Add((await store.GetAsync(TenantId.Default, member.Id, CancellationToken.None))!.CompletedAt);
            }

            var finished = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.FinishedAt;
            Assert.True(finished >= membersEnded.Max(), $"the batch finished at {finished:O}, before a member ended {membersEnded.Max():O}");
            var request = new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 100))], Limit = 100, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
            var released = await store.DequeueAsync(request, CancellationToken.None);
            Assert.Equal(new[] { child.Id, onComplete.Id, late.Id }.Order(StringComparer.Ordinal), released.Select(j => j.Id).Order(StringComparer.Ordinal));
            foreach (var job in released)
            {
                var waitedFor = job.Id == onComplete.Id ? finished : ended;
                var started = (await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.StartedAt;
                Assert.True(job.EnqueuedAt >= waitedFor, $"{job.Id} was released at {job.EnqueuedAt:O}, before what it waited for ended {waitedFor:O}");
                Assert.True(started >= waitedFor, $"{job.Id} started at {started:O}, before what it waited for ended {waitedFor:O}");
            }

            Assert.Equal(released.Count, await store.AcknowledgeManyAsync([.. released.Select(Succeeded)], CancellationToken.None));

            // Entries written before they carried a finish time still apply, at the delivery's time.
            var earlierParent = RedisKeyLayoutTests.NewJob(queues[0]);
            var earlierChild = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(earlierParent.Id, SuccessOnly: true)] };
            var earlierBatch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var earlierMember = RedisKeyLayoutTests.NewJob(queues[2]) with { BatchId = earlierBatch.Id };
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(earlierParent, CancellationToken.None)).Outcome);
            Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(earlierChild, CancellationToken.None)).State);
            Assert.True((await store.CreateBatchAsync(earlierBatch, [earlierMember], CancellationToken.None)).AllStored);
            var db = connection.GetDatabase();
            await db.ListRightPushAsync(store.Keys.ForQueue(queues[0]).Outbox, $"d\tj\t{earlierParent.Id}\t1\t1\t{queues[1]}\t{earlierChild.Id}");
            await db.ListRightPushAsync(store.Keys.ForQueue(queues[2]).Outbox, $"c\t{earlierBatch.Id}\t{queues[2]}\t{earlierMember.Id}\tsucceeded\t0");
            Assert.Equal(2, await store.DeliverOutboxesAsync(100));
            var earlierReleased = (await store.GetAsync(TenantId.Default, earlierChild.Id, CancellationToken.None))!;
            Assert.Equal((JobState.Pending, time.GetUtcNow()), (earlierReleased.State, earlierReleased.UpdatedAt));
            var earlierInfo = (await store.GetBatchAsync(earlierBatch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal((BatchState.Succeeded, time.GetUtcNow()), (earlierInfo.State, earlierInfo.FinishedAt));
            Assert.Equal(3, (await FinishAllAsync(store, queues)).Count);
            while (await store.DeliverOutboxesAsync(100) > 0)
            {
            }
        }
        finally
        {
            store.DeliversOutboxesOnNotice = true;
        }
    }

    /// <summary>
    /// A batch cancelled while its members, one per slot, all run: each still succeeds, and the batch, finished on its
    /// own slot through the outbox, resolves its success callback as not met and releases its complete callback.
    /// </summary>
    private static async Task CancelledBatchWhoseMembersSucceedAcrossSlotsAsync(RedisJobStore store, List<string> queues)
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = queues.Select(q => RedisKeyLayoutTests.NewJob(q) with { BatchId = batch.Id }).ToList();
        var onSuccess = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var onComplete = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };
        Assert.True((await store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete], CancellationToken.None)).AllStored);
        var request = new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 100))], Limit = 100, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
        var running = await store.DequeueAsync(request, CancellationToken.None);
        Assert.Equal(members.Count, running.Count);

        Assert.True(await store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));
        var joined = await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(queues[0]) with { BatchId = batch.Id }, CancellationToken.None);
        Assert.Equal((EnqueueOutcome.DependencyNotFound, batch.Id), (joined.Outcome, joined.JobId));
        Assert.Equal(running.Count, await store.AcknowledgeManyAsync([.. running.Select(Succeeded)], CancellationToken.None));

        await WaitForStateAsync(store, onSuccess.Id, JobState.Cancelled);
        await WaitForStateAsync(store, onComplete.Id, JobState.Pending);
        var info = (await store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Cancelled, members.Count), (info.State, info.Succeeded));
        Assert.Equal(onComplete.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);

        // Callbacks added once it has finished, linked on the batch's slot (flow_link.lua): resolved as not succeeded.
        var late = RedisKeyLayoutTests.NewJob(queues[0]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var lateOrFail = RedisKeyLayoutTests.NewJob(queues[1]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true)] };
        var lateAny = RedisKeyLayoutTests.NewJob(queues[2]) with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };
        foreach (var job in new[] { late, lateOrFail, lateAny })
        {
            await store.EnqueueAsync(job, CancellationToken.None);
        }

        await WaitForStateAsync(store, late.Id, JobState.Cancelled);
        await WaitForStateAsync(store, lateOrFail.Id, JobState.Failed);
        await WaitForStateAsync(store, lateAny.Id, JobState.Pending);
        Assert.Equal(lateAny.Id, Assert.Single(await FinishAllAsync(store, queues)).Id);
    }

    /// <summary>Leases every pending job of the queues and acknowledges it (failed for failIds), until none is left; returns them.</summary>
    private static async Task<List<LeasedJob>> FinishAllAsync(RedisJobStore store, List<string> queues, IReadOnlyCollection<string>? failIds = null)
    {
        var request = new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 100))], Limit = 100, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
        var leased = await store.DequeueAsync(request, CancellationToken.None);
        Assert.Equal(leased.Count, await store.AcknowledgeManyAsync(
            [.. leased.Select(j => failIds?.Contains(j.Id) == true
                ? new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Failed, Error = new JobError(1, "boom", null, null, DateTimeOffset.UnixEpoch) }
                : Succeeded(j))],
            CancellationToken.None));
        return [.. leased];
    }

    private static Task WaitForStateAsync(RedisJobStore store, string jobId, JobState state) =>
        WaitUntilAsync(async () => (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))?.State == state, $"job {jobId} to be {state}");

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        RedisServerProcess.WaitUntilAsync(condition, TimeSpan.FromSeconds(10), what);

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
}
