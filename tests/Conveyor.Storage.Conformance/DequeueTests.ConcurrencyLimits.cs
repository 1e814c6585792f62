namespace Conveyor.Storage.Conformance;

/// <summary>
/// Concurrency limits (<see cref="DequeueRequest.ConcurrencyLimits"/>): a dequeue never takes a job whose limit's
/// active jobs are at its maximum; the slot is the active job, so whatever ends it (acknowledgement, recovery,
/// cancellation) frees it; a job held back stays pending in its place, its attempt not counted.
/// </summary>
public abstract partial class DequeueTests
{
    private const string Imports = "imports";

    private static ConcurrencyLimitRule Limit(int max, string queue = DefaultQueue, string? type = null, bool perTenant = false) =>
        new() { Queue = queue, JobType = type, PerTenant = perTenant, Max = max };

    private async Task<IReadOnlyList<LeasedJob>> DequeueLimitedAsync(int limit, ConcurrencyLimitRule[] rules, params string[] queues) =>
        await Store.DequeueAsync(Request(limit, queues: queues) with { ConcurrencyLimits = rules }, Ct);

    private async Task<List<string>> EnqueueInOrderAsync(params NewJob[] jobs)
    {
        var ids = new List<string>(jobs.Length);
        foreach (var job in jobs)
        {
            ids.Add(await EnqueueAsync(job));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        return ids;
    }

    [Fact]
    public async Task Dequeue_QueueLimit_TakesNoMoreThanTheMaximumAcrossDequeues()
    {
        var ids = await EnqueueManyAsync(5);
        ConcurrencyLimitRule[] rules = [Limit(2)];

        var first = await DequeueLimitedAsync(10, rules);
        var second = await DequeueLimitedAsync(10, rules);

        Assert.Equal(ids[..2], first.Select(static j => j.Id));
        Assert.Empty(second);
    }

    [Fact]
    public async Task Dequeue_QueueLimit_HeldJobsStayPendingWithNoAttemptCounted()
    {
        var ids = await EnqueueManyAsync(3);

        await DequeueLimitedAsync(10, [Limit(1)]);

        foreach (var id in ids[1..])
        {
            var job = await GetAsync(id);
            Assert.Equal(JobState.Pending, job.State);
            Assert.Equal(0, job.Attempts);
        }
    }

    [Theory]
    [InlineData(AckOutcome.Succeeded)]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Retry)]
    [InlineData(AckOutcome.Released)]
    public async Task Dequeue_QueueLimit_AnAcknowledgementFreesTheSlot(AckOutcome outcome)
    {
        var ids = await EnqueueManyAsync(3);
        ConcurrencyLimitRule[] rules = [Limit(1)];
        var running = Assert.Single(await DequeueLimitedAsync(10, rules));

        Assert.True(await AckAsync(Ack(running, outcome, error: Error(1), retryAt: Now.AddMinutes(5))));
        var next = Assert.Single(await DequeueLimitedAsync(10, rules));

        // A released job takes back its place at the head; any other outcome lets the next job run.
        Assert.Equal(outcome == AckOutcome.Released ? ids[0] : ids[1], next.Id);
    }

    [Fact]
    public async Task Dequeue_QueueLimit_ARecoveredLeaseFreesTheSlotAndTheJobRunsAgainFirst()
    {
        var ids = await EnqueueManyAsync(3);
        ConcurrencyLimitRule[] rules = [Limit(1)];
        var running = Assert.Single(await Store.DequeueAsync(Request(10, lease: TimeSpan.FromSeconds(5)) with { ConcurrencyLimits = rules }, Ct));
        Assert.Empty(await DequeueLimitedAsync(10, rules));

        Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct));
        var again = Assert.Single(await DequeueLimitedAsync(10, rules));

        Assert.Equal(running.Id, again.Id);
        Assert.Equal(2, again.Attempt);
        Assert.Equal(ids[0], again.Id);
    }

    [Fact]
    public async Task Dequeue_QueueLimit_ACancelledJobFreesTheSlot()
    {
        var ids = await EnqueueManyAsync(2);
        ConcurrencyLimitRule[] rules = [Limit(1)];
        var running = Assert.Single(await DequeueLimitedAsync(10, rules));

        await Store.CancelAsync(DefaultTenant, running.Id, Ct);
        Assert.Empty(await DequeueLimitedAsync(10, rules)); // still running until its worker stops it
        Assert.True(await AckAsync(Ack(running, AckOutcome.Cancelled)));

        Assert.Equal(ids[1], Assert.Single(await DequeueLimitedAsync(10, rules)).Id);
    }

    [Fact]
    public async Task Dequeue_JobTypeLimit_HoldsBackThatTypeOnlyAndTakesTheJobsBehindIt()
    {
        var ids = await EnqueueInOrderAsync(
            NewJob(type: "report:build"), NewJob(type: "report:build"), NewJob(type: "mail:send"), NewJob(type: "report:build"), NewJob(type: "mail:send"));

        var leased = await DequeueLimitedAsync(10, [Limit(1, type: "report:build")]);

        Assert.Equal([ids[0], ids[2], ids[4]], leased.Select(static j => j.Id));
        await AssertStateAsync(ids[1], JobState.Pending);
        await AssertStateAsync(ids[3], JobState.Pending);
    }

    [Fact]
    public async Task Dequeue_TenantLimit_EachTenantHasItsOwnSlotsAndHeldJobsKeepTheirPlace()
    {
        var ids = await EnqueueInOrderAsync(
            NewJob(tenant: "acme"), NewJob(tenant: "acme"), NewJob(tenant: "acme"), NewJob(tenant: "globex"), NewJob(tenant: "globex"));
        ConcurrencyLimitRule[] rules = [Limit(1, perTenant: true)];

        var first = await DequeueLimitedAsync(10, rules);
        Assert.Equal([ids[0], ids[3]], first.Select(static j => j.Id));

        Assert.True(await AckAsync(Ack(first[0], AckOutcome.Succeeded)));
        var second = await DequeueLimitedAsync(10, rules);

        Assert.Equal([ids[1]], second.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_SeveralLimits_AJobMustFitEveryLimitThatMatchesIt()
    {
        var ids = await EnqueueInOrderAsync(
            NewJob(tenant: "acme", type: "report:build"), NewJob(tenant: "globex", type: "report:build"), NewJob(tenant: "globex", type: "mail:send"),
            NewJob(tenant: "initech", type: "mail:send"));

        // The queue runs 3 at once, one report at a time: globex's report waits, the mails do not.
        var leased = await DequeueLimitedAsync(10, [Limit(3), Limit(1, type: "report:build")]);

        Assert.Equal([ids[0], ids[2], ids[3]], leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_LimitOnAnotherQueue_DoesNotHoldBackThisOne()
    {
        await EnqueueManyAsync(3, queue: Imports);
        var ids = await EnqueueManyAsync(3);

        var leased = await Store.DequeueAsync(
            new DequeueRequest
            {
                Queues = [new QueueQuota(Imports, 10), new QueueQuota(DefaultQueue, 10)],
                Limit = 10,
                ServerId = ServerId,
                LeaseDuration = Lease,
                ConcurrencyLimits = [Limit(1, queue: Imports)],
            },
            Ct);

        Assert.Equal(1, leased.Count(static j => j.Queue == Imports));
        Assert.Equal(ids, leased.Where(static j => j.Queue == DefaultQueue).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_QueueLimit_CountsJobsAlreadyRunningBeforeTheLimitWasSet()
    {
        await EnqueueManyAsync(4);
        Assert.Equal(2, (await DequeueAsync(2)).Count);

        Assert.Single(await DequeueLimitedAsync(10, [Limit(3)]));
        Assert.Empty(await DequeueLimitedAsync(10, [Limit(2)]));
    }

    [Fact]
    public async Task Dequeue_LimitedDequeuesAtOnce_NeverExceedTheMaximum()
    {
        await EnqueueManyAsync(40);
        ConcurrencyLimitRule[] rules = [Limit(5)];

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await DequeueLimitedAsync(3, rules))));

        Assert.Equal(5, batches.Sum(static b => b.Count));
    }

    [Fact]
    public async Task Dequeue_BatchCrossingTheLimit_TakesExactlyTheFreeSlots()
    {
        var ids = await EnqueueManyAsync(30);
        ConcurrencyLimitRule[] rules = [Limit(12)];

        // Far from the limit (none running, ten asked, twelve allowed), then across it: two more, then none.
        var first = await DequeueLimitedAsync(10, rules);
        var second = await DequeueLimitedAsync(10, rules);
        var third = await DequeueLimitedAsync(10, rules);

        Assert.Equal(ids[..10], first.Select(static j => j.Id));
        Assert.Equal(ids[10..12], second.Select(static j => j.Id));
        Assert.Empty(third);
        Assert.True(await AckAsync(Ack(first[0], AckOutcome.Succeeded)));
        Assert.Equal([ids[12]], (await DequeueLimitedAsync(10, rules)).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_SeveralLimits_TheSmallestDecidesWhetherALimitIsNear()
    {
        var ids = await EnqueueInOrderAsync(
            NewJob(type: "report:build"), NewJob(type: "report:build"), NewJob(type: "mail:send"), NewJob(type: "report:build"));

        // The queue's limit is far away; the report limit of one is not.
        var leased = await DequeueLimitedAsync(10, [Limit(1000), Limit(1, type: "report:build")]);

        Assert.Equal([ids[0], ids[2]], leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_LimitOnOneOfTwoQueues_TakesExactlyItsFreeSlots()
    {
        var imports = await EnqueueManyAsync(5, queue: Imports);
        var ids = await EnqueueManyAsync(3);
        ConcurrencyLimitRule[] rules = [Limit(3, queue: Imports)];
        Assert.Equal(imports[..2], (await DequeueLimitedAsync(2, rules, Imports)).Select(static j => j.Id));

        var leased = await Store.DequeueAsync(
            new DequeueRequest
            {
                Queues = [new QueueQuota(Imports, 10), new QueueQuota(DefaultQueue, 10)],
                Limit = 10,
                ServerId = ServerId,
                LeaseDuration = Lease,
                ConcurrencyLimits = rules,
            },
            Ct);

        Assert.Equal([imports[2]], leased.Where(static j => j.Queue == Imports).Select(static j => j.Id));
        Assert.Equal(ids, leased.Where(static j => j.Queue == DefaultQueue).Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_LimitedDequeuesAtOnceFromFarToFull_TakeExactlyTheMaximum()
    {
        await EnqueueManyAsync(60);
        ConcurrencyLimitRule[] rules = [Limit(10)];

        // Each dequeue alone is far from the limit (three asked, ten allowed); together they cross it.
        var batches = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () => await DequeueLimitedAsync(3, rules))));

        Assert.Equal(10, batches.Sum(static b => b.Count));
        Assert.Equal(10, batches.SelectMany(static b => b).Select(static j => j.Id).Distinct().Count());
    }
}
