namespace Conveyor.Storage.Conformance;

/// <summary>Queues: pause and resume, and the per-queue statistics operators see.</summary>
public abstract class QueueTests : JobStoreTestBase
{
    private async Task<QueueStats> StatsOfAsync(string queue)
    {
        var stats = await Store.GetQueueStatsAsync(Ct);
        var match = stats.SingleOrDefault(s => s.Queue == queue);
        Assert.NotNull(match);
        return match;
    }

    [Fact]
    public async Task Pause_QueueWithJobs_DequeueTakesNothing()
    {
        await EnqueueManyAsync(3, "mail");

        await Store.PauseQueueAsync("mail", Ct);

        await AssertNothingToDequeueAsync("mail");
    }

    [Fact]
    public async Task Pause_EnqueueStillSucceeds()
    {
        await Store.PauseQueueAsync("mail", Ct);

        var result = await Store.EnqueueAsync(NewJob(queue: "mail"), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.Equal(JobState.Pending, result.State);
        await AssertNothingToDequeueAsync("mail");
    }

    [Fact]
    public async Task Pause_OnlyThatQueue_OthersStillServed()
    {
        await EnqueueAsync(NewJob(queue: "mail"));
        var report = await EnqueueAsync(NewJob(queue: "reports"));

        await Store.PauseQueueAsync("mail", Ct);

        var leased = await DequeueAsync(10, "mail", "reports");
        Assert.Equal([report], leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Pause_ActiveJobs_KeepRunningAndCanBeAcknowledged()
    {
        var id = await EnqueueAsync(NewJob(queue: "mail"));
        var leased = await DequeueOneAsync("mail");

        await Store.PauseQueueAsync("mail", Ct);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        await AssertStateAsync(id, JobState.Succeeded);
    }

    [Fact]
    public async Task Pause_Twice_IsStillPausedAndOneResumeResumes()
    {
        var id = await EnqueueAsync(NewJob(queue: "mail"));

        await Store.PauseQueueAsync("mail", Ct);
        await Store.PauseQueueAsync("mail", Ct);
        await AssertNothingToDequeueAsync("mail");
        await Store.ResumeQueueAsync("mail", Ct);

        Assert.Equal(id, (await DequeueOneAsync("mail")).Id);
    }

    [Fact]
    public async Task Resume_PausedQueue_JobsAreDequeuedInFifoOrder()
    {
        await Store.PauseQueueAsync("mail", Ct);
        var ids = await EnqueueManyAsync(3, "mail");

        await Store.ResumeQueueAsync("mail", Ct);

        Assert.Equal(ids, (await DequeueAsync(3, "mail")).Select(static j => j.Id));
    }

    [Fact]
    public async Task Resume_QueueNeverPaused_IsHarmless()
    {
        var id = await EnqueueAsync(NewJob(queue: "mail"));

        await Store.ResumeQueueAsync("mail", Ct);

        Assert.Equal(id, (await DequeueOneAsync("mail")).Id);
    }

    [Fact]
    public async Task Stats_EmptyStore_IsEmpty()
    {
        Assert.Empty(await Store.GetQueueStatsAsync(Ct));
    }

    [Fact]
    public async Task Stats_CountEveryStatePerQueue()
    {
        foreach (var state in Enum.GetValues<JobState>().Where(static s => s != JobState.Waiting))
        {
            await CreateJobInStateAsync(state, NewJob(queue: "work-" + state.ToStorageName()));
        }

        await CreateJobInStateAsync(JobState.Pending, NewJob(queue: "work-pending"));

        foreach (var state in Enum.GetValues<JobState>().Where(static s => s != JobState.Waiting))
        {
            var stats = await StatsOfAsync("work-" + state.ToStorageName());
            var expected = state == JobState.Pending ? 2 : 1;
            Assert.Equal(state == JobState.Scheduled ? expected : 0, stats.Scheduled);
            Assert.Equal(state == JobState.Pending ? expected : 0, stats.Pending);
            Assert.Equal(state == JobState.Active ? expected : 0, stats.Active);
            Assert.Equal(state == JobState.Retrying ? expected : 0, stats.Retrying);
            Assert.Equal(state == JobState.Succeeded ? expected : 0, stats.Succeeded);
            Assert.Equal(state == JobState.Partial ? expected : 0, stats.Partial);
            Assert.Equal(state == JobState.Failed ? expected : 0, stats.Failed);
            Assert.Equal(state == JobState.Cancelled ? expected : 0, stats.Cancelled);
            Assert.False(stats.Paused);
        }
    }

    [Fact]
    public async Task Stats_MixedStatesInOneQueue_CountedSeparately()
    {
        await EnqueueManyAsync(5, "mix");
        await EnqueueAsync(NewJob(queue: "mix", processAt: Now.AddHours(1)));
        var leased = await DequeueAsync(3, "mix");
        Assert.True(await AckAsync(Ack(leased[0], AckOutcome.Succeeded)));
        Assert.True(await AckAsync(Ack(leased[1], AckOutcome.Failed, Error(1))));

        var stats = await StatsOfAsync("mix");

        Assert.Equal(1, stats.Scheduled);
        Assert.Equal(2, stats.Pending);
        Assert.Equal(1, stats.Active);
        Assert.Equal(1, stats.Succeeded);
        Assert.Equal(1, stats.Failed);
        Assert.Equal(0, stats.Retrying + stats.Partial + stats.Cancelled);
    }

    [Fact]
    public async Task Stats_FollowStateChanges()
    {
        var id = await EnqueueAsync(NewJob(queue: "mail"));
        Assert.Equal(1, (await StatsOfAsync("mail")).Pending);

        var leased = await DequeueOneAsync("mail");
        var active = await StatsOfAsync("mail");
        Assert.Equal(0, active.Pending);
        Assert.Equal(1, active.Active);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now.AddSeconds(1))));
        var retrying = await StatsOfAsync("mail");
        Assert.Equal(0, retrying.Active);
        Assert.Equal(1, retrying.Retrying);

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, id, Ct));
        var cancelled = await StatsOfAsync("mail");
        Assert.Equal(0, cancelled.Retrying);
        Assert.Equal(1, cancelled.Cancelled);
    }

    [Fact]
    public async Task Stats_AfterConcurrentDequeuesAcksAndDeletes_MatchEveryJobsState()
    {
        await EnqueueManyAsync(60, "left");
        await EnqueueManyAsync(60, "right");
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, (string Queue, AckOutcome Outcome)>();

        // Four workers take batches from both queues at once and acknowledge them in batches.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            while (true)
            {
                var leased = await Store.DequeueAsync(Request(7, null, $"server-{worker}", "left", "right"), Ct);
                if (leased.Count == 0)
                {
                    return;
                }

                var acks = leased.Select((job, i) => (i % 3) switch
                {
                    0 => Ack(job, AckOutcome.Succeeded),
                    1 => Ack(job, AckOutcome.Failed, Error(1)),
                    _ => Ack(job, AckOutcome.Retry, Error(1), retryAt: Now.AddHours(1)),
                }).ToList();
                Assert.Equal(acks.Count, await Store.AcknowledgeManyAsync(acks, Ct));
                foreach (var (job, ack) in leased.Zip(acks))
                {
                    outcomes[job.Id] = (job.Queue, ack.Outcome);
                }
            }
        })));
        var deleted = outcomes.Where(o => o.Value.Outcome == AckOutcome.Succeeded).Take(5).Select(o => o.Key).ToList();
        foreach (var id in deleted)
        {
            Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));
        }

        Assert.Equal(120, outcomes.Count);
        foreach (var queue in new[] { "left", "right" })
        {
            var stats = await StatsOfAsync(queue);
            long Count(AckOutcome outcome) => outcomes.Count(o => o.Value.Queue == queue && o.Value.Outcome == outcome && !deleted.Contains(o.Key));
            Assert.Equal((0L, 0L, 0L), (stats.Pending, stats.Active, stats.Scheduled));
            Assert.Equal(Count(AckOutcome.Succeeded), stats.Succeeded);
            Assert.Equal(Count(AckOutcome.Failed), stats.Failed);
            Assert.Equal(Count(AckOutcome.Retry), stats.Retrying);
        }
    }

    [Fact]
    public async Task Stats_OrderedByQueueName()
    {
        await EnqueueAsync(NewJob(queue: "low"));
        await EnqueueAsync(NewJob(queue: "critical"));
        await EnqueueAsync(NewJob(queue: "default"));
        await EnqueueAsync(NewJob(queue: "bulk"));

        var stats = await Store.GetQueueStatsAsync(Ct);

        Assert.Equal(["bulk", "critical", "default", "low"], stats.Select(static s => s.Queue));
    }

    [Fact]
    public async Task Stats_PausedFlag_FollowsPauseAndResume()
    {
        await EnqueueAsync(NewJob(queue: "mail"));

        await Store.PauseQueueAsync("mail", Ct);
        Assert.True((await StatsOfAsync("mail")).Paused);

        await Store.ResumeQueueAsync("mail", Ct);
        Assert.False((await StatsOfAsync("mail")).Paused);
    }

    [Fact]
    public async Task Stats_PausedQueueWithoutJobs_IsListed()
    {
        await Store.PauseQueueAsync("quiet", Ct);

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct));

        Assert.Equal("quiet", stats.Queue);
        Assert.True(stats.Paused);
        Assert.Equal(0, stats.Pending + stats.Active + stats.Scheduled + stats.Retrying + stats.Succeeded + stats.Partial + stats.Failed + stats.Cancelled);
        Assert.Null(stats.OldestPendingSince);
    }

    [Fact]
    public async Task Stats_ResumedQueueWithoutJobs_IsNotListed()
    {
        await Store.PauseQueueAsync("quiet", Ct);

        await Store.ResumeQueueAsync("quiet", Ct);

        Assert.Empty(await Store.GetQueueStatsAsync(Ct));
    }

    [Fact]
    public async Task Stats_QueueWithOnlyFinishedJobs_IsListed()
    {
        await CreateJobInStateAsync(JobState.Succeeded, NewJob(queue: "done"));

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct));

        Assert.Equal("done", stats.Queue);
        Assert.Equal(1, stats.Succeeded);
    }

    [Fact]
    public async Task Stats_OldestPendingSince_IsWhenTheOldestPendingJobBecamePending()
    {
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(NewJob(queue: "mail"));
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(NewJob(queue: "mail"));
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(StartTime.AddSeconds(10), (await StatsOfAsync("mail")).OldestPendingSince);

        await DequeueOneAsync("mail");
        Assert.Equal(StartTime.AddSeconds(20), (await StatsOfAsync("mail")).OldestPendingSince);

        await DequeueOneAsync("mail");
        Assert.Null((await StatsOfAsync("mail")).OldestPendingSince);
    }

    [Fact]
    public async Task Stats_OldestPendingSince_OfPromotedJob_IsThePromotionTime()
    {
        await EnqueueAsync(NewJob(queue: "mail", processAt: Now.AddSeconds(5)));
        Time.Advance(TimeSpan.FromSeconds(30));
        await Store.PromoteDueAsync(10, Ct);

        Assert.Equal(StartTime.AddSeconds(30), (await StatsOfAsync("mail")).OldestPendingSince);
    }

    [Fact]
    public async Task Stats_OldestPendingSince_IgnoresScheduledJobs()
    {
        await EnqueueAsync(NewJob(queue: "mail", processAt: Now.AddHours(1)));

        var stats = await StatsOfAsync("mail");

        Assert.Equal(1, stats.Scheduled);
        Assert.Null(stats.OldestPendingSince);
    }

    [Fact]
    public async Task Stats_DeletedAndPurgedJobs_AreNotCounted()
    {
        await CreateJobInStateAsync(JobState.Succeeded, NewJob(queue: "mail", retention: TimeSpan.FromMinutes(1)));
        var deleted = await EnqueueAsync(NewJob(queue: "mail"));
        await Store.DeleteAsync(DefaultTenant, deleted, Ct);
        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));

        Assert.DoesNotContain(await Store.GetQueueStatsAsync(Ct), static s => s.Queue == "mail" && (s.Pending > 0 || s.Succeeded > 0));
    }
}
