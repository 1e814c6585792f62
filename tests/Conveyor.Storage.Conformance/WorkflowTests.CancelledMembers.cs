namespace Conveyor.Storage.Conformance;

/// <summary>
/// A batch member that never runs still finishes: one cancelled as it is stored (it waits for the success of a job that
/// already failed) or cancelled before a worker took it (pending, scheduled or waiting) counts as cancelled in its batch,
/// once. The batch finishes when its other members do (<see cref="BatchState.Completed"/>, since not every member
/// succeeded): the complete callback is released exactly once and the success callback is cancelled (docs/async-jobs.md,
/// "Batches").
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_MemberCancelledAsItIsStored_CountsAsFinished_CompleteCallbackOnce_SuccessCallbackCancelled()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var failed = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "earlier"));
        var (batch, members, onSuccess, onComplete) = NewBatchOf(3);
        members[0] = After(members[0], failed);

        var result = await Store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete], Ct);

        Assert.True(result.AllStored);
        Assert.Equal(JobState.Cancelled, result.Results[0].State);
        await AssertStateAsync(members[0].Id, JobState.Cancelled);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 3, 0, 1, 2), (info!.State, info.Total, info.Succeeded, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Waiting);
        await AssertStateAsync(onComplete.Id, JobState.Waiting);

        await RunOneAsync("batch", AckOutcome.Succeeded);
        await AssertNothingToDequeueAsync("callbacks");
        await RunOneAsync("batch", AckOutcome.Succeeded);

        await AssertBatchCompletedOnceAsync(batch.Id, onSuccess.Id, onComplete.Id, succeeded: 2, cancelled: 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Batch_EveryMemberCancelledAsItIsStored_FinishesInTheSameStep_CompleteCallbackOnce(bool callbacksFirst)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var failed = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "earlier"));
        var (batch, members, onSuccess, onComplete) = NewBatchOf(2);
        members = [.. members.Select(m => After(m, failed))];
        NewJob[] jobs = callbacksFirst ? [onSuccess, onComplete, .. members] : [.. members, onSuccess, onComplete];

        var result = await Store.CreateBatchAsync(batch, jobs, Ct);

        Assert.True(result.AllStored);
        await AssertStateAsync(members[0].Id, JobState.Cancelled);
        await AssertStateAsync(members[1].Id, JobState.Cancelled);
        await AssertBatchCompletedOnceAsync(batch.Id, onSuccess.Id, onComplete.Id, succeeded: 0, cancelled: 2);
    }

    [Fact]
    public async Task Batch_MemberAddedCancelledAsItIsStored_CountsAsFinished_CompleteCallbackOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var failed = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "earlier"));
        var (batch, members, onSuccess, onComplete) = NewBatchOf(1);
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete], Ct)).AllStored);
        var running = await DequeueOneAsync("batch");
        var added = After(NewJob(queue: "batch") with { BatchId = batch.Id }, failed);

        var result = await Store.AddToBatchAsync(batch.Id, DefaultTenant, [added], Ct);

        Assert.True(result!.AllStored);
        Assert.Equal(JobState.Cancelled, result.Results[0].State);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 2, 1, 1), (info!.State, info.Total, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onComplete.Id, JobState.Waiting);

        Assert.True(await AckAsync(Ack(running, AckOutcome.Succeeded)));

        await AssertBatchCompletedOnceAsync(batch.Id, onSuccess.Id, onComplete.Id, succeeded: 1, cancelled: 1);
    }

    [Fact]
    public async Task Batch_MembersCancelledBeforeTheyRan_EachCountsOnce_TheLastCancelFinishesTheBatch()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // A pending member, a scheduled one, a step that runs and one waiting for that step (a DAG).
        var (batch, members, onSuccess, onComplete) = NewBatchOf(4);
        members[1] = members[1] with { ProcessAt = Now.AddHours(1) };
        members[3] = After(members[3], members[2].Id);
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, onSuccess, onComplete], Ct)).AllStored);
        await AssertStateAsync(members[3].Id, JobState.Waiting);

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, members[3].Id, Ct));
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, members[1].Id, Ct));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 2, 2), (info!.State, info.Cancelled, info.Unfinished));

        // The step the cancelled one waited for finishes: nothing is released or counted again for it.
        var leased = await Store.DequeueAsync(Request(10, queues: "batch"), Ct);
        var step = Assert.Single(leased, j => j.Id == members[2].Id);
        Assert.True(await AckAsync(Ack(step, AckOutcome.Succeeded)));
        await AssertStateAsync(members[3].Id, JobState.Cancelled);
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 1, 2, 1), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onComplete.Id, JobState.Waiting);

        // The last member is cancelled while pending (taken back from the worker that leased it with the others).
        var last = Assert.Single(leased, j => j.Id == members[0].Id);
        Assert.True(await AckAsync(Ack(last, AckOutcome.Released)));
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, members[0].Id, Ct));

        await AssertBatchCompletedOnceAsync(batch.Id, onSuccess.Id, onComplete.Id, succeeded: 1, cancelled: 3);
        Assert.Equal(JobCommandResult.NotAllowed, await Store.CancelAsync(DefaultTenant, members[0].Id, Ct));
        Assert.Equal(3, (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))!.Cancelled);
    }

    /// <summary>
    /// The batch finished as <see cref="BatchState.Completed"/> with these counts; its success callback is cancelled and
    /// its complete callback is the one job the callbacks' queue hands out.
    /// </summary>
    private async Task AssertBatchCompletedOnceAsync(string batchId, string onSuccess, string onComplete, int succeeded, int cancelled)
    {
        var info = await Store.GetBatchAsync(batchId, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, succeeded, 0, cancelled, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
        await AssertStateAsync(onSuccess, JobState.Cancelled);
        await AssertStateAsync(onComplete, JobState.Pending);
        var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal([onComplete], callbacks.Select(static j => j.Id));
        Assert.True(await AckAsync(Ack(callbacks[0], AckOutcome.Succeeded)));
        await AssertNothingToDequeueAsync("callbacks");
    }
}
