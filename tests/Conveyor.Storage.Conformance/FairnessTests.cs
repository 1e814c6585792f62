namespace Conveyor.Storage.Conformance;

/// <summary>
/// Per-tenant fairness (<see cref="DequeueRequest.FairQueues"/>): a fair queue gives its jobs in turns between the
/// tenants that have pending jobs, so one tenant's backlog does not hold back another tenant's job; within a tenant the
/// jobs keep their order; a queue that is not fair stays FIFO. Asserted by order, never by time.
/// </summary>
public abstract class FairnessTests : JobStoreTestBase
{
    private const string TenantA = "tenant-a";
    private const string TenantB = "tenant-b";
    private const string TenantC = "tenant-c";
    private const int Backlog = 300;
    private const int Batch = 10;

    private static DequeueRequest FairRequest(int limit, string lastTenant = "", string queue = DefaultQueue) =>
        Request(limit, queues: queue) with { FairQueues = [new FairQueue(queue, lastTenant)] };

    /// <summary>Enqueues <paramref name="count"/> jobs of the tenant in one call (in that order), then moves the clock 1 ms.</summary>
    private async Task<List<string>> EnqueueBacklogAsync(string tenant, int count, string queue = DefaultQueue)
    {
        var jobs = Enumerable.Range(0, count).Select(_ => NewJob(queue: queue, tenant: tenant)).ToArray();
        var results = await Store.EnqueueManyAsync(jobs, Ct);
        Assert.All(results, static r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        return [.. jobs.Select(static j => j.Id)];
    }

    /// <summary>Dequeues the fair queue batch after batch, as a server does (each batch starts after the last tenant served), until it gives nothing.</summary>
    private async Task<List<LeasedJob>> DrainFairAsync(int batch, int max = int.MaxValue, string queue = DefaultQueue)
    {
        var taken = new List<LeasedJob>();
        var last = "";
        while (taken.Count < max)
        {
            var jobs = await Store.DequeueAsync(FairRequest(batch, last, queue), Ct);
            if (jobs.Count == 0)
            {
                break;
            }

            taken.AddRange(jobs);
            last = jobs[^1].Tenant;
        }

        return taken;
    }

    [Fact]
    public async Task Dequeue_FairQueue_AnotherTenantsJobAfterABacklogIsAmongTheFirstBatches()
    {
        await EnqueueBacklogAsync(TenantA, Backlog);
        var late = await EnqueueAsync(NewJob(tenant: TenantB));

        var taken = await DrainFairAsync(Batch, max: 2 * Batch);

        // Two tenants with ready jobs, batches of ten: B's job is among the first 2 × 10.
        Assert.Contains(late, taken.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_QueueNotFair_StaysFifoBehindTheBacklog()
    {
        var backlog = await EnqueueBacklogAsync(TenantA, Backlog);
        var late = await EnqueueAsync(NewJob(tenant: TenantB));

        var taken = new List<LeasedJob>();
        for (var jobs = await DequeueAsync(Batch); jobs.Count > 0; jobs = await DequeueAsync(Batch))
        {
            taken.AddRange(jobs);
        }

        Assert.Equal([.. backlog, late], taken.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_ThreeTenantsComeOutInTurns()
    {
        var a = await EnqueueBacklogAsync(TenantA, 12);
        var b = await EnqueueBacklogAsync(TenantB, 12);
        var c = await EnqueueBacklogAsync(TenantC, 12);

        var taken = await DrainFairAsync(batch: 4);

        Assert.Equal(36, taken.Count);
        // Round by round: a, b, c, a, b, c … whatever the batch boundaries.
        Assert.Equal(
            Enumerable.Range(0, 12).SelectMany(_ => new[] { TenantA, TenantB, TenantC }),
            taken.Select(static j => j.Tenant));
        // Within a tenant, the order the jobs became pending.
        Assert.Equal(a, taken.Where(static j => j.Tenant == TenantA).Select(static j => j.Id));
        Assert.Equal(b, taken.Where(static j => j.Tenant == TenantB).Select(static j => j.Id));
        Assert.Equal(c, taken.Where(static j => j.Tenant == TenantC).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_OneJobAtATime_TurnsStartAfterTheLastTenant()
    {
        await EnqueueBacklogAsync(TenantA, 3);
        await EnqueueBacklogAsync(TenantB, 3);
        await EnqueueBacklogAsync(TenantC, 3);

        var first = Assert.Single(await Store.DequeueAsync(FairRequest(1, lastTenant: TenantA), Ct));
        var second = Assert.Single(await Store.DequeueAsync(FairRequest(1, lastTenant: TenantC), Ct));

        Assert.Equal(TenantB, first.Tenant);
        Assert.Equal(TenantA, second.Tenant);
    }

    [Fact]
    public async Task Dequeue_FairQueue_OneTenantAlone_FillsTheBatchInItsOrder()
    {
        var backlog = await EnqueueBacklogAsync(TenantA, 25);

        var taken = await Store.DequeueAsync(FairRequest(20), Ct);

        Assert.Equal(backlog[..20], taken.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_ATenantThatRunsOutLeavesItsShareToTheOthers()
    {
        var a = await EnqueueBacklogAsync(TenantA, 30);
        var b = await EnqueueBacklogAsync(TenantB, 2);

        var taken = await Store.DequeueAsync(FairRequest(20), Ct);

        Assert.Equal(20, taken.Count);
        Assert.Equal(b, taken.Where(static j => j.Tenant == TenantB).Select(static j => j.Id));
        Assert.Equal(a[..18], taken.Where(static j => j.Tenant == TenantA).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_ScheduledJobsNotYetDueAreNotTaken()
    {
        await EnqueueBacklogAsync(TenantA, 5);
        var later = await EnqueueAsync(NewJob(tenant: TenantB, processAt: Now.AddMinutes(5)));

        var taken = await DrainFairAsync(Batch);

        Assert.Equal(5, taken.Count);
        Assert.DoesNotContain(later, taken.Select(static j => j.Id));
        await AssertStateAsync(later, JobState.Scheduled, TenantB);

        Time.Advance(TimeSpan.FromMinutes(5));
        await Store.PromoteDueAsync(100, Ct);
        var promoted = Assert.Single(await Store.DequeueAsync(FairRequest(Batch), Ct));
        Assert.Equal(later, promoted.Id);
    }

    [Fact]
    public async Task Dequeue_FairQueue_LeasesAndAcknowledgementsWorkAsOnAnyQueue()
    {
        await EnqueueBacklogAsync(TenantA, 3);
        await EnqueueBacklogAsync(TenantB, 3);

        var taken = await Store.DequeueAsync(FairRequest(4), Ct);
        Assert.Equal(4, taken.Count);
        foreach (var job in taken)
        {
            Assert.Equal(1, job.Attempt);
            Assert.Equal(Now + Lease, job.LeaseExpiresAt);
            await AssertStateAsync(job.Id, JobState.Active, job.Tenant);
        }

        // A released job takes back its place at the head of its tenant's jobs; a succeeded one is done.
        Assert.True(await AckAsync(Ack(taken[0], AckOutcome.Released)));
        Assert.True(await AckAsync(Ack(taken[1], AckOutcome.Succeeded)));
        await AssertStateAsync(taken[1].Id, JobState.Succeeded, taken[1].Tenant);

        var again = await Store.DequeueAsync(FairRequest(10), Ct);
        Assert.Contains(taken[0].Id, again.Select(static j => j.Id));
        Assert.Equal(taken[0].Id, again.First(j => j.Tenant == taken[0].Tenant).Id);
        Assert.Equal(3, again.Count);
    }

    [Fact]
    public async Task Dequeue_FairQueue_ARecoveredLeaseComesBackInItsTenantsTurn()
    {
        await EnqueueBacklogAsync(TenantA, 2);
        await EnqueueBacklogAsync(TenantB, 2);
        var first = await Store.DequeueAsync(FairRequest(2), Ct);

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);
        var again = await DrainFairAsync(Batch);

        Assert.Equal(4, again.Count);
        Assert.Equal(first.Select(static j => j.Id).Order(StringComparer.Ordinal), again.Take(2).Select(static j => j.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dequeue_FairQueue_ConcurrencyLimitPerTenantStillHolds()
    {
        await EnqueueBacklogAsync(TenantA, 5);
        await EnqueueBacklogAsync(TenantB, 5);
        ConcurrencyLimitRule[] rules = [new() { Queue = DefaultQueue, PerTenant = true, Max = 2 }];

        var taken = await Store.DequeueAsync(FairRequest(10) with { ConcurrencyLimits = rules }, Ct);
        var more = await Store.DequeueAsync(FairRequest(10) with { ConcurrencyLimits = rules }, Ct);

        Assert.Equal(2, taken.Count(static j => j.Tenant == TenantA));
        Assert.Equal(2, taken.Count(static j => j.Tenant == TenantB));
        Assert.Empty(more);
    }

    [Fact]
    public async Task Dequeue_FairQueue_QueueLimitTakesTheNextTenantsJobFirst()
    {
        await EnqueueBacklogAsync(TenantA, 5);
        var b = await EnqueueAsync(NewJob(tenant: TenantB));
        ConcurrencyLimitRule[] rules = [new() { Queue = DefaultQueue, Max = 2 }];

        var taken = await Store.DequeueAsync(FairRequest(10) with { ConcurrencyLimits = rules }, Ct);

        Assert.Equal(2, taken.Count);
        Assert.Contains(b, taken.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_PausedQueueGivesNothing()
    {
        await EnqueueBacklogAsync(TenantA, 3);
        await Store.PauseQueueAsync(DefaultQueue, Ct);

        Assert.Empty(await Store.DequeueAsync(FairRequest(Batch), Ct));
    }

    [Fact]
    public async Task Dequeue_FairQueueBesideAnotherQueue_QuotasStillHold()
    {
        const string Other = "other";
        await EnqueueBacklogAsync(TenantA, 10);
        await EnqueueBacklogAsync(TenantB, 10);
        var other = await EnqueueBacklogAsync(TenantA, 10, Other);

        var request = new DequeueRequest
        {
            Queues = [new QueueQuota(DefaultQueue, 4), new QueueQuota(Other, 2)],
            Limit = 6,
            ServerId = ServerId,
            LeaseDuration = Lease,
            FairQueues = [new FairQueue(DefaultQueue, "")],
        };
        var taken = await Store.DequeueAsync(request, Ct);

        Assert.Equal(4, taken.Count(static j => j.Queue == DefaultQueue));
        Assert.Equal(2, taken.Count(static j => j.Tenant == TenantB));
        Assert.Equal(other[..2], taken.Where(static j => j.Queue == Other).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_FairQueue_EveryJobIsTakenOnce()
    {
        var ids = new List<string>();
        ids.AddRange(await EnqueueBacklogAsync(TenantA, 40));
        ids.AddRange(await EnqueueBacklogAsync(TenantB, 7));
        ids.AddRange(await EnqueueBacklogAsync(TenantC, 1));

        var taken = await DrainFairAsync(batch: 9);

        Assert.Equal(ids.Order(StringComparer.Ordinal), taken.Select(static j => j.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dequeue_FairQueue_ACancelledOrDeletedPendingJobIsNotTaken()
    {
        await EnqueueBacklogAsync(TenantA, 2);
        await Store.DequeueAsync(FairRequest(1), Ct);
        var cancelled = await EnqueueAsync(NewJob(tenant: TenantB));
        var deleted = await EnqueueAsync(NewJob(tenant: TenantC));

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(TenantB, cancelled, Ct));
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(TenantC, deleted, Ct));
        var taken = await DrainFairAsync(Batch);

        Assert.Equal([TenantA], taken.Select(static j => j.Tenant));
    }

    [Fact]
    public async Task QueueStats_FairQueue_CountEveryTenantsPendingJobs()
    {
        await EnqueueBacklogAsync(TenantA, 3);
        await Store.DequeueAsync(FairRequest(1), Ct);
        await EnqueueBacklogAsync(TenantB, 2);
        await EnqueueBacklogAsync(TenantC, 1);

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct), static s => s.Queue == DefaultQueue);

        Assert.Equal(5, stats.Pending);
        Assert.Equal(1, stats.Active);
    }

    [Fact]
    public async Task Dequeue_QueueNoLongerFair_TakesEveryWaitingJobOnceAndThenFifo()
    {
        Assert.Empty(await Store.DequeueAsync(FairRequest(Batch), Ct));
        var waiting = new List<string>();
        waiting.AddRange(await EnqueueBacklogAsync(TenantA, 5));
        waiting.AddRange(await EnqueueBacklogAsync(TenantB, 5));

        var taken = await DequeueAsync(20);
        var later = await EnqueueBacklogAsync(TenantB, 3);
        later.AddRange(await EnqueueBacklogAsync(TenantA, 3));
        var after = await DequeueAsync(20);

        Assert.Equal(waiting.Order(StringComparer.Ordinal), taken.Select(static j => j.Id).Order(StringComparer.Ordinal));
        Assert.Equal(later, after.Select(static j => j.Id));
    }
}
