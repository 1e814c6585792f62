namespace Conveyor.Storage.Conformance;

/// <summary>Promotion: scheduled and retrying jobs that are due become pending.</summary>
public abstract class PromoteTests : JobStoreTestBase
{
    private async Task<string> RetryingAsync(TimeSpan retryIn, string queue = DefaultQueue)
    {
        var id = await EnqueueAsync(NewJob(queue: queue));
        var leased = await DequeueOneAsync(queue);
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now + retryIn)));
        return id;
    }

    [Fact]
    public async Task Promote_NothingDue_ReturnsZero()
    {
        await EnqueueAsync(NewJob(processAt: Now.AddMinutes(1)));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));
    }

    [Fact]
    public async Task Promote_ScheduledBeforeItsTime_StaysScheduled()
    {
        var id = await EnqueueAsync(NewJob(processAt: Now.AddMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromMilliseconds(1));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(id, JobState.Scheduled);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Promote_ScheduledExactlyAtItsTime_BecomesPending()
    {
        var id = await EnqueueAsync(NewJob(processAt: Now.AddMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(id, JobState.Pending);
    }

    [Fact]
    public async Task Promote_ScheduledPastItsTime_BecomesPendingAndDequeues()
    {
        var id = await EnqueueAsync(NewJob(processAt: Now.AddMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));

        Assert.Equal(id, (await DequeueOneAsync()).Id);
    }

    [Fact]
    public async Task Promote_KeepsScheduledAt()
    {
        var processAt = Now.AddMinutes(1);
        var id = await EnqueueAsync(NewJob(processAt: processAt));
        Time.Advance(TimeSpan.FromMinutes(2));

        await Store.PromoteDueAsync(100, Ct);

        Assert.Equal(processAt, (await GetAsync(id)).ScheduledAt);
    }

    [Fact]
    public async Task Promote_RetryingBeforeRetryAt_StaysRetrying()
    {
        var id = await RetryingAsync(TimeSpan.FromSeconds(30));
        Time.Advance(TimeSpan.FromSeconds(29));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(id, JobState.Retrying);
    }

    [Fact]
    public async Task Promote_RetryingAtRetryAt_BecomesPending()
    {
        var id = await RetryingAsync(TimeSpan.FromSeconds(30));
        Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(id, JobState.Pending);
        var leased = await DequeueOneAsync();
        Assert.Equal(id, leased.Id);
        Assert.Equal(2, leased.Attempt);
    }

    [Fact]
    public async Task Promote_ScheduledAndRetryingTogether_BothPromoted()
    {
        var scheduled = await EnqueueAsync(NewJob(queue: "s", processAt: Now.AddSeconds(10)));
        var retrying = await RetryingAsync(TimeSpan.FromSeconds(10), "r");
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(2, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(scheduled, JobState.Pending);
        await AssertStateAsync(retrying, JobState.Pending);
    }

    [Fact]
    public async Task Promote_OnlyDueJobs_AmongMany()
    {
        var due = new List<string>();
        var notDue = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            due.Add(await EnqueueAsync(NewJob(processAt: Now.AddSeconds(10 + i))));
            notDue.Add(await EnqueueAsync(NewJob(processAt: Now.AddMinutes(10 + i))));
        }

        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(6, await Store.PromoteDueAsync(100, Ct));
        foreach (var id in due)
        {
            await AssertStateAsync(id, JobState.Pending);
        }

        foreach (var id in notDue)
        {
            await AssertStateAsync(id, JobState.Scheduled);
        }
    }

    [Fact]
    public async Task Promote_MoreDueThanLimit_PromotesOnlyLimit()
    {
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync(NewJob(processAt: Now.AddSeconds(1)));
        }

        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(2, await Store.PromoteDueAsync(2, Ct));
        Assert.Equal(2, (await DequeueAsync(10)).Count);
        Assert.Equal(3, await Store.PromoteDueAsync(10, Ct));
        Assert.Equal(0, await Store.PromoteDueAsync(10, Ct));
    }

    [Fact]
    public async Task Promote_MoreDueThanLimit_EarliestDueFirst()
    {
        var late = await EnqueueAsync(NewJob(processAt: Now.AddSeconds(3)));
        var early = await EnqueueAsync(NewJob(processAt: Now.AddSeconds(1)));
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(1, await Store.PromoteDueAsync(1, Ct));

        await AssertStateAsync(early, JobState.Pending);
        await AssertStateAsync(late, JobState.Scheduled);
    }

    [Fact]
    public async Task Promote_EnqueuedAtOfTheLaterDequeue_IsThePromotionTime()
    {
        await EnqueueAsync(NewJob(processAt: Now.AddSeconds(10)));
        Time.Advance(TimeSpan.FromSeconds(25));
        await Store.PromoteDueAsync(100, Ct);
        var promotedAt = Now;
        Time.Advance(TimeSpan.FromSeconds(5));

        var leased = await DequeueOneAsync();

        Assert.Equal(promotedAt, leased.EnqueuedAt);
    }

    [Fact]
    public async Task Promote_PendingActiveAndFinishedJobs_AreUntouched()
    {
        var pending = await CreateJobInStateAsync(JobState.Pending, NewJob(queue: "p"));
        var active = await CreateJobInStateAsync(JobState.Active, NewJob(queue: "a"));
        var failed = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "f"));
        Time.Advance(TimeSpan.FromDays(2));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(pending, JobState.Pending);
        await AssertStateAsync(active, JobState.Active);
        await AssertStateAsync(failed, JobState.Failed);
    }

    [Fact]
    public async Task Promote_IntoPausedQueue_IsPendingButNotDequeued()
    {
        var id = await EnqueueAsync(NewJob(queue: "paused", processAt: Now.AddSeconds(1)));
        await Store.PauseQueueAsync("paused", Ct);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));

        await AssertStateAsync(id, JobState.Pending);
        await AssertNothingToDequeueAsync("paused");
    }

    [Fact]
    public async Task Promote_ConcurrentPromoters_PromoteEachJobOnce()
    {
        for (var i = 0; i < 30; i++)
        {
            await EnqueueAsync(NewJob(processAt: Now.AddSeconds(1)));
        }

        Time.Advance(TimeSpan.FromSeconds(1));

        var counts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () => await Store.PromoteDueAsync(7, Ct))));

        var remaining = 0;
        int promoted;
        while ((promoted = await Store.PromoteDueAsync(100, Ct)) > 0)
        {
            remaining += promoted;
        }

        Assert.Equal(30, counts.Sum() + remaining);
        Assert.Equal(30, (await DequeueAsync(100)).Count);
    }

    private static readonly TimeSpan Exact = TimeSpan.FromMicroseconds(1);

    [Fact]
    public async Task ListDueTimes_TheTimesOfScheduledAndRetryingJobsBetweenAfterAndBefore_EarliestFirst_EachOnce()
    {
        var t0 = Now;
        await EnqueueAsync(NewJob(queue: "a", processAt: t0.AddMilliseconds(300)));
        await EnqueueAsync(NewJob(queue: "a", processAt: t0.AddMilliseconds(100)));
        await EnqueueAsync(NewJob(queue: "b", processAt: t0.AddMilliseconds(100)));
        await RetryingAsync(TimeSpan.FromMilliseconds(200), "c");
        await EnqueueAsync(NewJob(queue: "a", processAt: t0.AddSeconds(1)));
        await EnqueueAsync(NewJob(queue: "a"));

        Assert.Equal(
            [t0.AddMilliseconds(100), t0.AddMilliseconds(200), t0.AddMilliseconds(300)],
            await Store.ListDueTimesAsync(t0, t0.AddSeconds(1), Exact, 100, Ct));
        Assert.Equal([t0.AddMilliseconds(200), t0.AddMilliseconds(300)], await Store.ListDueTimesAsync(t0.AddMilliseconds(100), t0.AddSeconds(1), Exact, 100, Ct));
        Assert.Empty(await Store.ListDueTimesAsync(t0, t0.AddSeconds(1), Exact, 0, Ct));
    }

    [Fact]
    public async Task ListDueTimes_RoundsUpToTheResolution_AndItsLimitCountsTimes_NotJobs()
    {
        var t0 = Now;
        foreach (var ms in new[] { 101, 103, 105, 130, 130, 130, 130, 170 })
        {
            await EnqueueAsync(NewJob(queue: "a", processAt: t0.AddMilliseconds(ms)));
        }

        Assert.Equal([t0.AddMilliseconds(120), t0.AddMilliseconds(140)], await Store.ListDueTimesAsync(t0, t0.AddSeconds(1), TimeSpan.FromMilliseconds(20), 2, Ct));
        Assert.Equal(
            [t0.AddMilliseconds(101), t0.AddMilliseconds(103), t0.AddMilliseconds(105), t0.AddMilliseconds(130)],
            await Store.ListDueTimesAsync(t0, t0.AddSeconds(1), Exact, 4, Ct));
        Assert.Equal([t0.AddMilliseconds(130), t0.AddMilliseconds(170)], await Store.ListDueTimesAsync(t0.AddMilliseconds(105), t0.AddSeconds(1), Exact, 2, Ct));
    }
}
