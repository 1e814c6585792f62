namespace Conveyor.Storage.Conformance;

/// <summary>A job released at shutdown goes back where it was: at the head of its queue, its progress cleared.</summary>
public abstract partial class AcknowledgeTests
{
    /// <summary>
    /// A job handed back after its handler ran (interrupted at shutdown) waits from the moment it went back: the time it
    /// ran is no queue wait, and counted as one it made a deploy read as a backlog (job_queue_wait_seconds, the queue's
    /// latency). Its place is kept all the same, ahead of the backlog enqueued while it ran.
    /// </summary>
    [Fact]
    public async Task Ack_ReleasedAfterItsHandlerRan_UnderABacklog_IsDequeuedFirst_WaitingFromTheRelease()
    {
        var leased = await LeaseAsync();
        Time.Advance(TimeSpan.FromSeconds(5));
        var backlog = await EnqueueManyAsync(4);
        Time.Advance(TimeSpan.FromSeconds(10));
        var releasedAt = Now;

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released) with { AttemptRan = true }));
        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(releasedAt, Assert.Single(await Store.GetQueueStatsAsync(Ct)).OldestPendingSince);
        var again = await DequeueOneAsync();
        Assert.Equal(leased.Id, again.Id);
        Assert.Equal(releasedAt, again.EnqueuedAt);
        Assert.Equal(backlog, (await DequeueAsync(100)).Select(static j => j.Id));
    }

    /// <summary>
    /// A job handed back before it started (a rate limit's paced turn, a job fetched ahead, no free slot) waited all
    /// along: it keeps its wait, or a throttled queue's latency would read only the time since its last refusal.
    /// </summary>
    [Fact]
    public async Task Ack_ReleasedBeforeItStarted_UnderABacklog_IsDequeuedFirstWithItsWaitKept()
    {
        var leased = await LeaseAsync();
        var backlog = await EnqueueManyAsync(4);
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        Assert.Equal(leased.EnqueuedAt, Assert.Single(await Store.GetQueueStatsAsync(Ct)).OldestPendingSince);
        var again = await DequeueOneAsync();
        Assert.Equal(leased.Id, again.Id);
        Assert.Equal(leased.EnqueuedAt, again.EnqueuedAt);
        Assert.Equal(backlog, (await DequeueAsync(100)).Select(static j => j.Id));
    }

    /// <summary>
    /// A server hands back together what it leased and did not start (at shutdown, or a queue's jobs a rate limit paces):
    /// they must run in the order they were leased, not the last first.
    /// </summary>
    [Fact]
    public async Task Ack_SeveralReleasedInOneCall_ComeBackFirst_InTheOrderTheyWereGiven()
    {
        var first = await EnqueueManyAsync(4);
        var leased = await DequeueAsync(4);
        Assert.Equal(first, leased.Select(static j => j.Id));
        var backlog = await EnqueueManyAsync(2);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(4, await Store.AcknowledgeManyAsync([.. leased.Select(static j => Ack(j, AckOutcome.Released))], Ct));

        Assert.Equal([.. first, .. backlog], (await DequeueAsync(100)).Select(static j => j.Id));
    }

    /// <summary>
    /// A server's acknowledgements are batched as they come, so what it hands back at once may be split over several
    /// calls: each job still goes back to the place it had among those handed back.
    /// </summary>
    [Fact]
    public async Task Ack_ReleasedOverSeveralCalls_ComeBackFirst_InTheOrderTheyHad()
    {
        var first = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            first.AddRange(await EnqueueManyAsync(1));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var leased = await DequeueAsync(4);
        Assert.Equal(first, leased.Select(static j => j.Id));
        var backlog = await EnqueueManyAsync(2);
        Time.Advance(TimeSpan.FromSeconds(1));

        // Whether a handler ran (its wait starts again) does not change the place.
        Assert.True(await AckAsync(Ack(leased[3], AckOutcome.Released) with { AttemptRan = true }));
        Assert.Equal(2, await Store.AcknowledgeManyAsync([Ack(leased[2], AckOutcome.Released), Ack(leased[0], AckOutcome.Released) with { AttemptRan = true }], Ct));
        Assert.True(await AckAsync(Ack(leased[1], AckOutcome.Released)));

        Assert.Equal([.. first, .. backlog], (await DequeueAsync(100)).Select(static j => j.Id));
    }

    [Fact]
    public async Task Ack_ReleasedWithProgressReported_IsPendingWithProgressZero()
    {
        var leased = await LeaseAsync();
        Assert.True(await Store.ReportProgressAsync(leased.Id, leased.LeaseToken, 35, Ct));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        // The next attempt starts from nothing: a value from the interrupted one would look like live work.
        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(0, job.Progress);
    }
}
