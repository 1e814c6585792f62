namespace Conveyor.Storage.Conformance;

/// <summary>Dequeue: which jobs come out, in what order, and what a lease looks like.</summary>
/// <remarks>The two-pass quota rule is in DequeueTests.Quotas.cs.</remarks>
public abstract partial class DequeueTests : JobStoreTestBase
{
    [Fact]
    public async Task Dequeue_EmptyStore_ReturnsEmptyList()
    {
        var leased = await DequeueAsync(10);

        Assert.Empty(leased);
    }

    [Fact]
    public async Task Dequeue_PendingJob_ReturnsItWithItsFields()
    {
        var job = NewJob(
            type: "mail:send",
            tenant: "acme",
            payload: "{\"to\":\"a@b.c\"}"u8.ToArray(),
            maxRetry: 5,
            timeout: TimeSpan.FromMinutes(2),
            deadline: Now.AddHours(4),
            traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        await EnqueueAsync(job);

        var leased = await DequeueOneAsync();

        Assert.Equal(job.Id, leased.Id);
        Assert.Equal("mail:send", leased.Type);
        Assert.Equal(DefaultQueue, leased.Queue);
        Assert.Equal("acme", leased.Tenant);
        Assert.Equal(job.Payload.ToArray(), leased.Payload.ToArray());
        Assert.Equal(1, leased.Attempt);
        Assert.Equal(5, leased.MaxRetry);
        Assert.Equal(TimeSpan.FromMinutes(2), leased.Timeout);
        Assert.Equal(StartTime.AddHours(4), leased.Deadline);
        Assert.Equal(job.TraceParent, leased.TraceParent);
        Assert.Equal(StartTime, leased.CreatedAt);
        Assert.Equal(StartTime, leased.EnqueuedAt);
    }

    [Fact]
    public async Task Dequeue_Job_BecomesActiveWithStartedAtAndAttemptCounted()
    {
        var id = await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(3));

        await DequeueOneAsync();

        var job = await GetAsync(id);
        Assert.Equal(JobState.Active, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(StartTime.AddSeconds(3), job.StartedAt);
        Assert.Equal(StartTime.AddSeconds(3), job.UpdatedAt);
        Assert.Null(job.CompletedAt);
    }

    [Fact]
    public async Task Dequeue_LeaseExpiresAt_IsNowPlusLeaseDuration()
    {
        await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(2));

        var leased = await DequeueOneAsync(lease: TimeSpan.FromSeconds(7.5));

        Assert.Equal(Now.AddSeconds(7.5), leased.LeaseExpiresAt);
    }

    [Fact]
    public async Task Dequeue_EnqueuedAt_IsWhenTheJobBecamePendingNotWhenItWasDequeued()
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        await EnqueueAsync();
        Time.Advance(TimeSpan.FromMinutes(5));

        var leased = await DequeueOneAsync();

        Assert.Equal(StartTime.AddSeconds(1), leased.EnqueuedAt);
    }

    [Fact]
    public async Task Dequeue_WithinAQueue_IsFifoByTimeOfBecomingPending()
    {
        var ids = await EnqueueManyAsync(5);

        var leased = await DequeueAsync(5);

        Assert.Equal(ids, leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_OneAtATime_IsFifo()
    {
        var ids = await EnqueueManyAsync(4);

        var order = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            order.Add((await DequeueOneAsync()).Id);
        }

        Assert.Equal(ids, order);
    }

    [Fact]
    public async Task Dequeue_JobsEnqueuedAtTheSameInstant_ComeOutInEnqueueOrder()
    {
        // Not spelled out by the contract: a demanding user expects a single producer's jobs in the order it
        // enqueued them even when the clock did not move between enqueues.
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await EnqueueAsync());
        }

        var leased = await DequeueAsync(10);

        Assert.Equal(ids, leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_OrderIsByBecomingPendingNotByCreation()
    {
        var scheduled = await EnqueueAsync(NewJob(processAt: Now.AddSeconds(10)));
        Time.Advance(TimeSpan.FromSeconds(5));
        var pending = await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));

        var leased = await DequeueAsync(2);

        Assert.Equal([pending, scheduled], leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_LimitSmallerThanBacklog_TakesOnlyLimit()
    {
        await EnqueueManyAsync(10);

        var leased = await DequeueAsync(3);

        Assert.Equal(3, leased.Count);
        Assert.Equal(3, (await DequeueAsync(3)).Count);
        Assert.Equal(3, (await DequeueAsync(3)).Count);
        Assert.Single(await DequeueAsync(3));
        Assert.Empty(await DequeueAsync(3));
    }

    [Fact]
    public async Task Dequeue_OnlyTheListedQueues()
    {
        await EnqueueAsync(NewJob(queue: "other"));

        Assert.Empty(await DequeueAsync(10, "default", "low"));
        Assert.Single(await DequeueAsync(10, "other"));
    }

    [Fact]
    public async Task Dequeue_JobsOfEveryTenant_FromTheSameQueue()
    {
        await EnqueueAsync(NewJob(tenant: "acme"));
        await EnqueueAsync(NewJob(tenant: "globex"));

        var leased = await DequeueAsync(10);

        Assert.Equal(["acme", "globex"], leased.Select(static j => j.Tenant).Order());
    }

    [Fact]
    public async Task Dequeue_ScheduledJob_IsNotTaken()
    {
        await EnqueueAsync(NewJob(processAt: Now.AddSeconds(1)));

        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Dequeue_ScheduledJobPastItsTimeButNotPromoted_IsNotTaken()
    {
        // Only pending jobs are taken: the promoter is what makes a due job pending.
        await EnqueueAsync(NewJob(processAt: Now.AddSeconds(1)));
        Time.Advance(TimeSpan.FromMinutes(1));

        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Dequeue_RetryingJob_IsNotTakenBeforePromotion()
    {
        await CreateJobInStateAsync(JobState.Retrying);

        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Dequeue_ActiveJob_IsNotTakenAgain()
    {
        await EnqueueAsync();
        await DequeueOneAsync();

        await AssertNothingToDequeueAsync();
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Dequeue_FinishedJob_IsNotTaken(JobState state)
    {
        await CreateJobInStateAsync(state);

        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Dequeue_PausedQueue_IsSkipped()
    {
        await EnqueueAsync(NewJob(queue: "paused"));
        var other = await EnqueueAsync(NewJob(queue: "open"));
        await Store.PauseQueueAsync("paused", Ct);

        var leased = await DequeueAsync(10, "paused", "open");

        Assert.Equal([other], leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_Twice_GivesDifferentLeaseTokens()
    {
        await EnqueueManyAsync(2);

        var first = await DequeueOneAsync();
        var second = await DequeueOneAsync();

        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
    }

    [Fact]
    public async Task Dequeue_SameJobAgainAfterRetry_HasNewTokenAndNextAttempt()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, Error(1), retryAt: Now)));
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));

        var second = await DequeueOneAsync();

        Assert.Equal(id, second.Id);
        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
        Assert.Equal(2, (await GetAsync(id)).Attempts);
    }

    [Fact]
    public async Task Dequeue_EveryBatchJob_HasItsOwnToken()
    {
        await EnqueueManyAsync(20);

        var leased = await DequeueAsync(20);

        Assert.Equal(20, leased.Select(static j => j.LeaseToken).Distinct().Count());
    }

    [Fact]
    public async Task Dequeue_ReleasedJob_IsTakenAgainFromTheHeadOfTheQueue()
    {
        var first = await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(first, leased.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released) with { AttemptRan = true }));

        var order = await DequeueAsync(2);

        // Interrupted at shutdown, it takes back the place it had: ahead of the job that was behind it; it waits from the
        // release.
        Assert.Equal([first, second], order.Select(static j => j.Id));
        Assert.Equal(StartTime.AddSeconds(2), order[0].EnqueuedAt);
    }
}
