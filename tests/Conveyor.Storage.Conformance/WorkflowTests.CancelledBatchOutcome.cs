namespace Conveyor.Storage.Conformance;

/// <summary>
/// A batch cancelled as a whole never succeeds: its success callbacks are not met even when every member still
/// succeeded (running members that finished before they saw the cancel), and its complete callbacks run.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_CancelledWhileEveryMemberRuns_AndEachStillSucceeds_SuccessCallbackCancelled_CompleteCallbackRuns()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, onComplete) = NewBatchOf(2);
        var orFail = NewJob(type: "batch:succeeded-else-fail", queue: "callbacks") with
        {
            DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true)],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete, orFail], Ct)).AllStored);
        var running = await Store.DequeueAsync(Request(10, queues: "batch"), Ct);
        Assert.Equal(2, running.Count);

        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        foreach (var member in running)
        {
            Assert.True(await AckAsync(Ack(member, AckOutcome.Succeeded)));
        }

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 2, 0), (info!.State, info.Succeeded, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Contains((await GetAsync(onSuccess.Id)).Errors, e => e.Message.Contains(batch.Id, StringComparison.Ordinal));
        await AssertStateAsync(orFail.Id, JobState.Failed);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
    }

    [Fact]
    public async Task Batch_CancelledAndFinished_ACallbackAddedLater_IsResolvedAsNotSucceeded()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(1);
        var running = await DequeueOneAsync("batch");
        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        Assert.True(await AckAsync(Ack(running, AckOutcome.Succeeded)));
        var late = NewJob(queue: "late") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var lateOrFail = NewJob(queue: "late") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true)] };
        var lateAny = NewJob(queue: "late") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };

        Assert.Equal(JobState.Cancelled, (await Store.EnqueueAsync(late, Ct)).State);
        var all = await Store.EnqueueAllOrNoneAsync([lateOrFail, lateAny], Ct);

        Assert.True(all.AllStored);
        await AssertStateAsync(lateOrFail.Id, JobState.Failed);
        await AssertStateAsync(lateAny.Id, JobState.Pending);
    }
}
