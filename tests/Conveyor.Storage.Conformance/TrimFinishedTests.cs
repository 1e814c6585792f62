using Conveyor.Diagnostics;
using Conveyor.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// The count cap: <see cref="IJobQueueStore.TrimFinishedAsync"/> keeps a queue's newest finished jobs per outcome class
/// (succeeded; failed, partial and cancelled together) and deletes the older ones, oldest finished first.
/// </summary>
public abstract class TrimFinishedTests : JobStoreTestBase
{
    /// <summary>Finishes one job on <paramref name="queue"/> in <paramref name="state"/>, then moves the clock 1 ms, so each finishes at its own instant.</summary>
    private async Task<string> FinishAsync(JobState state, string queue = DefaultQueue, string? id = null)
    {
        var jobId = await CreateJobInStateAsync(state, NewJob(id: id, queue: queue));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        return jobId;
    }

    private async Task<List<string>> FinishManyAsync(int count, JobState state = JobState.Succeeded, string queue = DefaultQueue)
    {
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(await FinishAsync(state, queue));
        }

        return ids;
    }

    private async Task<bool> ExistsAsync(string id) => await Store.GetAsync(DefaultTenant, id, Ct) is not null;

    private async Task AssertGoneAsync(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
        }
    }

    private async Task AssertKeptAsync(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            Assert.True(await ExistsAsync(id), $"job {id} should be kept");
        }
    }

    private async Task<QueueStats?> StatsAsync(string queue) =>
        (await Store.GetQueueStatsAsync(Ct)).SingleOrDefault(q => q.Queue == queue);

    [Fact]
    public async Task Trim_KeepsTheNewestSucceeded_AndDeletesTheOlder()
    {
        var ids = await FinishManyAsync(5);

        Assert.Equal(3, await Store.TrimFinishedAsync(DefaultQueue, keepSucceeded: 2, keepFailed: null, 100, Ct));

        await AssertGoneAsync(ids[..3]);
        await AssertKeptAsync(ids[3..]);
        Assert.Equal(2, (await StatsAsync(DefaultQueue))!.Succeeded);
        Assert.Equal(2, (await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs.Count);
    }

    [Fact]
    public async Task Trim_OtherQueues_AreUntouched()
    {
        var capped = await FinishManyAsync(4, queue: "capped");
        var other = await FinishManyAsync(4, queue: "other");

        Assert.Equal(3, await Store.TrimFinishedAsync("capped", 1, 1, 100, Ct));

        await AssertKeptAsync([capped[^1], .. other]);
        Assert.Equal(4, (await StatsAsync("other"))!.Succeeded);
        Assert.Equal(0, await Store.TrimFinishedAsync("never-used", 0, 0, 100, Ct));
    }

    [Fact]
    public async Task Trim_FailedPartialAndCancelled_CountTogether_AndSucceededApart()
    {
        var succeeded = await FinishManyAsync(2);
        var failed = await FinishAsync(JobState.Failed);
        var partial = await FinishAsync(JobState.Partial);
        var cancelled = await FinishAsync(JobState.Cancelled);
        var newestFailed = await FinishAsync(JobState.Failed);

        Assert.Equal(2, await Store.TrimFinishedAsync(DefaultQueue, keepSucceeded: null, keepFailed: 2, 100, Ct));

        await AssertGoneAsync([failed, partial]);
        await AssertKeptAsync([cancelled, newestFailed, .. succeeded]);
    }

    [Fact]
    public async Task Trim_BothCaps_EachClassKeepsItsOwnNewest()
    {
        var succeeded = await FinishManyAsync(3);
        var failed = await FinishManyAsync(3, JobState.Failed);

        Assert.Equal(3, await Store.TrimFinishedAsync(DefaultQueue, keepSucceeded: 2, keepFailed: 1, 100, Ct));

        await AssertGoneAsync([succeeded[0], failed[0], failed[1]]);
        await AssertKeptAsync([succeeded[1], succeeded[2], failed[2]]);
    }

    [Fact]
    public async Task Trim_NoCaps_DeletesNothing()
    {
        await FinishManyAsync(3);

        Assert.Equal(0, await Store.TrimFinishedAsync(DefaultQueue, null, null, 100, Ct));
        Assert.Equal(3, (await StatsAsync(DefaultQueue))!.Succeeded);
    }

    [Fact]
    public async Task Trim_KeepZero_DeletesEveryFinishedJobOfTheClass()
    {
        await FinishManyAsync(3);
        var failed = await FinishAsync(JobState.Failed);

        Assert.Equal(3, await Store.TrimFinishedAsync(DefaultQueue, keepSucceeded: 0, keepFailed: null, 100, Ct));

        Assert.Equal(0, (await StatsAsync(DefaultQueue))!.Succeeded);
        await AssertKeptAsync([failed]);
    }

    [Theory]
    [MemberData(nameof(UnfinishedStates))]
    public async Task Trim_UnfinishedJob_IsNeverDeleted(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var finished = await FinishManyAsync(2, queue: "finished-elsewhere");

        Assert.Equal(0, await Store.TrimFinishedAsync(DefaultQueue, 0, 0, 100, Ct));

        await AssertStateAsync(id, state);
        await AssertKeptAsync(finished);
    }

    [Fact]
    public async Task Trim_OrderIsByFinishTime_NotByCreation()
    {
        var first = await EnqueueAsync();
        var second = await EnqueueAsync();
        var leased = await DequeueAsync(2);
        Assert.True(await AckAsync(Ack(leased.Single(j => j.Id == second), AckOutcome.Succeeded)));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await AckAsync(Ack(leased.Single(j => j.Id == first), AckOutcome.Succeeded)));

        Assert.Equal(1, await Store.TrimFinishedAsync(DefaultQueue, 1, null, 100, Ct));

        await AssertGoneAsync([second]);
        await AssertKeptAsync([first]);
    }

    [Fact]
    public async Task Trim_MoreThanTheLimit_DeletesOnlyTheLimit_OldestFirst()
    {
        var ids = await FinishManyAsync(6);

        Assert.Equal(2, await Store.TrimFinishedAsync(DefaultQueue, 1, null, 2, Ct));
        await AssertGoneAsync(ids[..2]);
        await AssertKeptAsync(ids[2..]);

        Assert.Equal(3, await Store.TrimFinishedAsync(DefaultQueue, 1, null, 10, Ct));
        Assert.Equal(0, await Store.TrimFinishedAsync(DefaultQueue, 1, null, 10, Ct));
        await AssertKeptAsync([ids[^1]]);
    }

    [Fact]
    public async Task Trim_LimitIsShared_BetweenTheClasses()
    {
        await FinishManyAsync(3);
        await FinishManyAsync(3, JobState.Cancelled);

        Assert.Equal(4, await Store.TrimFinishedAsync(DefaultQueue, 0, 0, 4, Ct));
        Assert.Equal(2, await Store.TrimFinishedAsync(DefaultQueue, 0, 0, 4, Ct));
    }

    [Fact]
    public async Task Trim_RequeuedJob_LeavesTheCountUntilItFinishesAgain()
    {
        var failed = await FinishAsync(JobState.Failed);
        var newer = await FinishAsync(JobState.Failed);
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, failed, Ct));

        // The requeued job is pending: only `newer` is finished, and a cap of one keeps it.
        Assert.Equal(0, await Store.TrimFinishedAsync(DefaultQueue, null, 1, 100, Ct));
        await AssertStateAsync(failed, JobState.Pending);

        // Failing again makes it the newest failed job; the older one goes.
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, Error(leased.Attempt))));
        Assert.Equal(1, await Store.TrimFinishedAsync(DefaultQueue, null, 1, 100, Ct));
        await AssertGoneAsync([newer]);
        await AssertStateAsync(failed, JobState.Failed);
    }

    [Fact]
    public async Task Trim_DeletedJob_LeavesNothingBehind()
    {
        var trimmed = await FinishAsync(JobState.Succeeded, id: "nightly-2026-01-01");
        var kept = await FinishAsync(JobState.Succeeded);

        Assert.Equal(1, await Store.TrimFinishedAsync(DefaultQueue, 1, null, 100, Ct));

        Assert.Equal([kept], (await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs.Select(j => j.Id));
        // Gone from the age-retention index too: a purge past every retention finds only the kept job.
        Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));
        // And from the id index: its id can be used again.
        Assert.Equal(EnqueueOutcome.Enqueued, (await Store.EnqueueAsync(NewJob(id: trimmed), Ct)).Outcome);
    }

    [Fact]
    public async Task Trim_PurgedOrDeletedJobs_AreNotCountedAnyMore()
    {
        var deleted = await FinishAsync(JobState.Succeeded);
        var kept = await FinishManyAsync(2);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, deleted, Ct));

        Assert.Equal(0, await Store.TrimFinishedAsync(DefaultQueue, 2, null, 100, Ct));

        await AssertKeptAsync(kept);
    }

    [Fact]
    public async Task JanitorRun_TrimsMoreThanOneBatch_AndKeepsTheNewest()
    {
        const string queue = "reports";
        const int keep = 5;
        var batch = Math.Max(1, Store.PurgeBatchSize);
        var total = (2 * batch) + keep + 7;
        var ids = new List<string>(total);
        while (ids.Count < total)
        {
            var chunk = Enumerable.Range(0, Math.Min(500, total - ids.Count)).Select(_ => NewJob(queue: queue)).ToList();
            await Store.EnqueueManyAsync(chunk, Ct);
            var leased = await Store.DequeueAsync(Request(chunk.Count, queues: queue), Ct);
            Assert.Equal(chunk.Count, leased.Count);
            await Store.AcknowledgeManyAsync([.. leased.Select(j => Ack(j, AckOutcome.Succeeded))], Ct);
            ids.AddRange(leased.Select(j => j.Id));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var newest = await FinishManyAsync(keep, queue: queue);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new ConveyorMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var retention = new ConveyorRetentionOptions { MaxSucceededPerQueue = keep };
        var janitor = new Janitor(Store, ServerId, metrics, TimeSpan.FromMinutes(1), Time, NullLogger.Instance, retention, [queue]);

        await janitor.RunOnceAsync(Ct);

        Assert.Equal(keep, (await StatsAsync(queue))!.Succeeded);
        await AssertKeptAsync(newest);
    }
}
