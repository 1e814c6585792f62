namespace Conveyor.Storage.Conformance;

/// <summary>
/// A failed or cancelled batch member run again by hand (RequeueAsync, or a bulk requeue): while its batch is unfinished
/// its end leaves the batch's counts and its next end is counted, so a member fixed and retried while the others run
/// can still make the batch succeed; a finished batch keeps the ends it was decided by.
/// </summary>
public abstract partial class WorkflowTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Batch_FailedMemberRetriedWhileTheBatchRuns_LeavesTheCounts_AndItsNextEndIsCounted(bool bulk)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(2);
        var failed = await RunOneAsync("batch", AckOutcome.Failed);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 0, 1, 1), (info!.State, info.Succeeded, info.Failed, info.Unfinished));

        Assert.Equal(JobCommandResult.Done, bulk
            ? Assert.Single(await Store.RunBulkAsync(JobBulkAction.Requeue, DefaultTenant, [failed], Ct))
            : await Store.RequeueAsync(DefaultTenant, failed, Ct));

        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 0, 0, 2), (info!.State, info.Succeeded, info.Failed, info.Unfinished));
        await RunOneAsync("batch", AckOutcome.Succeeded);
        await RunOneAsync("batch", AckOutcome.Succeeded);

        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 2, 0, 0), (info!.State, info.Succeeded, info.Failed, info.Unfinished));
        var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
    }

    [Fact]
    public async Task Batch_CancelledMemberRetriedWhileTheBatchRuns_LeavesTheCounts_AndItsNextEndIsCounted()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, _) = await CreateBatchAsync(2);
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, members[0].Id, Ct));
        Assert.Equal(1, (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))!.Cancelled);

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, members[0].Id, Ct));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 0, 2), (info!.State, info.Cancelled, info.Unfinished));

        await RunOneAsync("batch", AckOutcome.Cancelled);
        await RunOneAsync("batch", AckOutcome.Succeeded);

        // Counted once each (the retried member, at the back of the queue, runs second): the other's cancellation and
        // the retried member's success finish the batch.
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 1, 1, 0), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
    }

    [Fact]
    public async Task Batch_MemberRetriedAfterTheBatchFinished_LeavesTheBatchAsItWasDecided()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(1);
        var failed = await RunOneAsync("batch", AckOutcome.Failed);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, failed, Ct));
        await RunOneAsync("batch", AckOutcome.Succeeded);

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 0, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Fact]
    public async Task Batch_MemberRetriedAfterTheBatchWasCancelledAsAWhole_StaysCountedAsCancelled()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, _) = await CreateBatchAsync(2);
        var running = await DequeueOneAsync("batch");
        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        var unstarted = members.Single(m => m.Id != running.Id).Id;
        await AssertStateAsync(unstarted, JobState.Cancelled);

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, unstarted, Ct));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 1, 1), (info!.State, info.Cancelled, info.Unfinished));

        Assert.True(await AckAsync(Ack(running, AckOutcome.Succeeded)));
        await RunOneAsync("batch", AckOutcome.Succeeded);
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 1, 1, 0), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Batch_MemberRetriedAfterTheBatchFinished_ThenGivenAContinuation_IsNotCountedAgain(bool deleted)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // The continuation flags the member again (something waits for its end), but its end was counted already.
        var (batch, _, _, onComplete) = await CreateBatchAsync(1);
        var failed = await RunOneAsync("batch", AckOutcome.Failed);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, failed, Ct));
        var next = await EnqueueAsync(After(NewJob(queue: "after"), failed));

        if (deleted)
        {
            Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, failed, Ct));
        }
        else
        {
            await RunOneAsync("batch", AckOutcome.Succeeded);
        }

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 1, 0, 1, 0, 0), (info!.State, info.Total, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
        if (deleted)
        {
            await AssertStateAsync(next, JobState.Cancelled);
        }
        else
        {
            Assert.Equal(next, (await DequeueOneAsync("after")).Id);
        }
    }

    [Fact]
    public async Task Batch_MemberRetriedAfterTheBatchWasCancelledAsAWhole_ThenGivenAContinuation_DoesNotFinishTheBatchEarly()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // Counted a second time, the retried member's end would make the counts reach the total while the other
        // member still runs.
        var (batch, members, _, onComplete) = await CreateBatchAsync(2);
        var running = await DequeueOneAsync("batch");
        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        var unstarted = members.Single(m => m.Id != running.Id).Id;
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, unstarted, Ct));
        var next = await EnqueueAsync(After(NewJob(queue: "after"), unstarted));

        await RunOneAsync("batch", AckOutcome.Succeeded);

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 0, 1, 1, false), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished, info.FinishedAt.HasValue));
        Assert.Equal(next, (await DequeueOneAsync("after")).Id);
        await AssertStateAsync(onComplete.Id, JobState.Waiting);

        Assert.True(await AckAsync(Ack(running, AckOutcome.Succeeded)));
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 1, 1, 0), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished));
    }
}
