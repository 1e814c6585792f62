using System.Collections.Concurrent;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// Two store instances over the same data, as two server processes sharing one database or one Redis: every
/// operation of one is seen by the other, and no job is ever leased twice.
/// </summary>
/// <remarks>
/// A store joins with <see cref="CreateSiblingStoreAsync"/>: a second instance over the data of the store that
/// <see cref="JobStoreTestBase.CreateStoreAsync"/> made (the same file, key prefix or schema). The in-memory store,
/// which cannot share data between instances, returns the same instance.
/// </remarks>
public abstract partial class SharedStoreTests : JobStoreTestBase
{
    private IJobStore? _sibling;

    /// <summary>The second instance, sharing the first one's data and clock.</summary>
    protected IJobStore Sibling => _sibling ?? throw new InvalidOperationException("The sibling is created in InitializeAsync.");

    /// <summary>
    /// A second instance over the same data as <paramref name="store"/>, taking its time from
    /// <paramref name="timeProvider"/>. The base initializes it, and disposes it before the first store.
    /// </summary>
    protected abstract ValueTask<IJobStore> CreateSiblingStoreAsync(IJobStore store, FakeTimeProvider timeProvider);

    /// <summary>
    /// True for a store whose instances notify each other of new work (Redis pub/sub, PostgreSQL NOTIFY), so that
    /// an enqueue through one instance ends a <see cref="IJobQueueStore.WaitForJobsAsync"/> on another at once.
    /// </summary>
    protected virtual bool InstancesNotifyEachOther => false;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _sibling = await CreateSiblingStoreAsync(Store, Time);
        await _sibling.InitializeAsync(Ct);
    }

    public override async Task DisposeAsync()
    {
        if (!ReferenceEquals(_sibling, Store))
        {
            switch (_sibling)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }

        _sibling = null;
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Sibling_SeesJobsEnqueuedByTheOther()
    {
        var id = await EnqueueAsync(NewJob(payload: "{\"from\":\"first\"}"u8.ToArray()));

        var job = await Sibling.GetAsync(DefaultTenant, id, Ct);

        Assert.NotNull(job);
        Assert.Equal("{\"from\":\"first\"}"u8.ToArray(), job.Payload.ToArray());
        Assert.Equal([id], (await Sibling.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task Sibling_DequeuesJobsEnqueuedByTheOther()
    {
        var id = await EnqueueAsync();

        var leased = Assert.Single(await Sibling.DequeueAsync(Request(10), Ct));

        Assert.Equal(id, leased.Id);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Sibling_AcknowledgesALeaseTakenByTheOther()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();

        Assert.Equal(1, await Sibling.AcknowledgeManyAsync([Ack(leased, AckOutcome.Succeeded)], Ct));

        await AssertStateAsync(id, JobState.Succeeded);
    }

    [Fact]
    public async Task Siblings_DequeueConcurrently_NeverLeaseTheSameJobTwice()
    {
        var ids = await EnqueueManyAsync(60);

        var batches = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? Store : Sibling).DequeueAsync(Request(7), Ct))));

        var taken = batches.SelectMany(static b => b).Select(static j => j.Id).ToList();
        Assert.Equal(ids.Order(), taken.Order());
    }

    [Fact]
    public async Task Siblings_DequeueConcurrentlyUnderAConcurrencyLimit_NeverExceedItTogether()
    {
        await EnqueueManyAsync(60);
        ConcurrencyLimitRule[] rules = [new() { Queue = DefaultQueue, Max = 4 }];

        var batches = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? Store : Sibling).DequeueAsync(Request(3) with { ConcurrencyLimits = rules }, Ct))));

        Assert.Equal(4, batches.Sum(static b => b.Count));
    }

    [Fact]
    public async Task Siblings_TakeRatePermitsAtOnce_GrantExactlyTheBurstTogether()
    {
        var request = new RatePermitRequest("partner", TimeSpan.FromSeconds(1), 4);

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            (await (i % 2 == 0 ? Store : Sibling).TryAcquireRatePermitsAsync([request], Ct))[0])));

        Assert.Equal(4, results.Count(static r => r.Acquired));
    }

    [Fact]
    public async Task Siblings_LeaseTokens_AreDistinctAcrossInstances()
    {
        await EnqueueManyAsync(20);

        var first = await Store.DequeueAsync(Request(10), Ct);
        var second = await Sibling.DequeueAsync(Request(10), Ct);

        Assert.Equal(20, first.Concat(second).Select(static j => j.LeaseToken).Distinct().Count());
    }

    [Fact]
    public async Task Siblings_UniqueKey_HeldAcrossInstances()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)));

        var result = await Sibling.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(holder, result.JobId);
    }

    [Fact]
    public async Task Siblings_ConcurrentUniqueKeyEnqueues_ExactlyOneStored()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? Store : Sibling).EnqueueAsync(NewJob(uniqueKey: "contended", uniqueUntil: Now.AddHours(1)), Ct))));

        Assert.Single(results, static r => r.Outcome == EnqueueOutcome.Enqueued);
    }

    [Fact]
    public async Task Sibling_PauseStopsTheOthersDequeues()
    {
        await EnqueueAsync();

        await Sibling.PauseQueueAsync(DefaultQueue, Ct);

        await AssertNothingToDequeueAsync();
        Assert.True(Assert.Single(await Store.GetQueueStatsAsync(Ct)).Paused);
        await Sibling.ResumeQueueAsync(DefaultQueue, Ct);
        await DequeueOneAsync();
    }

    [Fact]
    public async Task Sibling_CancelRequestReachesTheLeaseHoldersExtension()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();

        Assert.Equal(JobCommandResult.Requested, await Sibling.CancelAsync(DefaultTenant, id, Ct));

        var extension = await Store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = ServerId, Leases = [new LeaseRef(id, leased.LeaseToken)], LeaseDuration = Lease },
            Ct);
        Assert.Equal([id], extension.CancelRequested);
    }

    [Fact]
    public async Task Sibling_RecoversLeasesTakenByTheOther()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(id, Assert.Single(await Sibling.RecoverExpiredLeasesAsync(10, Ct)).JobId);

        Assert.False(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        Assert.Equal([id], (await Store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = ServerId, Leases = [new LeaseRef(id, leased.LeaseToken)], LeaseDuration = Lease },
            Ct)).Lost);
    }

    [Fact]
    public async Task Siblings_LockHeldByOneOwner_RefusedToAnotherThroughEitherInstance()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", TimeSpan.FromSeconds(30), Ct));

        Assert.False(await Sibling.TryAcquireLockAsync("cron-leader", "server-b", TimeSpan.FromSeconds(30), Ct));
        Assert.True(await Sibling.TryAcquireLockAsync("cron-leader", "server-a", TimeSpan.FromSeconds(30), Ct));
        Assert.True(await Sibling.ReleaseLockAsync("cron-leader", "server-a", Ct));
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-b", TimeSpan.FromSeconds(30), Ct));
    }

    [Fact]
    public async Task Siblings_IdempotencyRecord_SharedAcrossInstances()
    {
        Assert.Equal(IdempotencyBeginOutcome.Started, (await Store.TryBeginIdempotencyKeyAsync("payment:1", new LeaseRef("job_a", 1), Now + Lease, Ct)).Outcome);

        var seen = await Sibling.TryBeginIdempotencyKeyAsync("payment:1", new LeaseRef("job_b", 2), Now + Lease, Ct);
        Assert.Equal(IdempotencyBeginResult.InProgress("job_a", Now + Lease), seen);

        Assert.True(await Sibling.ReleaseIdempotencyKeyAsync("payment:1", new LeaseRef("job_a", 1), Ct));
        Assert.Equal(IdempotencyBeginOutcome.Started, (await Store.TryBeginIdempotencyKeyAsync("payment:1", new LeaseRef("job_b", 2), Now + Lease, Ct)).Outcome);
    }

    [Fact]
    public async Task Siblings_ServerRegistry_SharedAcrossInstances()
    {
        await Store.HeartbeatServerAsync(
            new ServerInfo
            {
                Id = "server-a",
                Host = "host-a",
                ProcessId = 1,
                Queues = new Dictionary<string, int> { [DefaultQueue] = 1 },
                Concurrency = 4,
                ActiveJobs = 0,
                StartedAt = Now,
                LastHeartbeatAt = Now,
                ExpiresAt = Now.AddSeconds(30),
            },
            Ct);

        Assert.Equal(["server-a"], (await Sibling.ListServersAsync(Ct)).Select(static s => s.Id));
    }

    [Fact]
    public async Task Siblings_EnqueueOnOne_WakesAWaitOnTheOther()
    {
        if (!InstancesNotifyEachOther)
        {
            return;
        }

        var wait = Sibling.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct).AsTask();

        // The fake clock never reaches the timeout, so only a notification can end the wait with true.
        await WaitUntilAsync(
            async () =>
            {
                await EnqueueAsync();
                await Task.WhenAny(wait, Task.Delay(TimeSpan.FromMilliseconds(250)));
                return wait.IsCompleted;
            },
            TimeSpan.FromSeconds(5),
            "an enqueue on one instance did not wake a wait on the other");
        Assert.True(await wait);
    }

    [Fact]
    public async Task Siblings_ReleasedBeyondTheHandOffsLimit_LeftPendingForTheOther()
    {
        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var children = Enumerable.Range(0, 3)
            .Select(_ => NewJob(queue: "children") with { DependsOn = [new JobDependency(parent, SuccessOnly: true)] })
            .ToArray();
        foreach (var child in children)
        {
            Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(child, Ct)).State);
        }

        var leased = await DequeueOneAsync("parents");
        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leased, AckOutcome.Succeeded)], Request(1, queues: "children"), Ct);

        // The acknowledging instance leases at most its limit; the other released jobs are pending for any instance.
        Assert.Equal(1, result.Applied);
        Assert.True(result.Leased.Count <= 1);
        var left = await Sibling.DequeueAsync(Request(10, serverId: "sibling", queues: "children"), Ct);
        Assert.Equal(children.Length - result.Leased.Count, left.Count);
        Assert.Equal(children.Select(static c => c.Id).Order(), result.Leased.Concat(left).Select(static j => j.Id).Order());
    }

    [Fact]
    public async Task Siblings_CancelOnOne_SignalledToTheOthersSubscribers()
    {
        if (Sibling is not IJobCancellationSignal signal)
        {
            return;
        }

        var heard = new ConcurrentQueue<string>();
        using var subscription = signal.SubscribeToCancellations(heard.Enqueue);
        var id = await EnqueueAsync();
        await DequeueOneAsync();

        // Cancel again at each try: a subscription may start listening a moment after it is made.
        await WaitUntilAsync(
            async () =>
            {
                Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
                return heard.Contains(id);
            },
            TimeSpan.FromSeconds(5),
            "a cancel through one instance did not reach the other's subscriber");
    }
}
