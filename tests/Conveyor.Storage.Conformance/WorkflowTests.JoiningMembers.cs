namespace Conveyor.Storage.Conformance;

/// <summary>
/// A job that names its batch (<see cref="NewJob.BatchId"/>) through the plain enqueue operations joins it on the terms
/// of <see cref="IWorkflowStore.AddToBatchAsync"/>: only a running batch of its tenant. A finished or cancelled batch
/// refuses it as a missing one (<see cref="EnqueueOutcome.DependencyNotFound"/>, nothing stored, the counts as they
/// were): taken in, it ran in a cancelled batch, or was counted in a total the batch had already been decided by.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Member_EnqueuedNamingItsBatch_JoinsOnlyARunningBatchOfItsTenant()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, _) = await CreateBatchAsync(1);
        var joined = NewJob(queue: "batch") with { BatchId = batch.Id };
        var stored = await Store.EnqueueAsync(joined, Ct);
        Assert.Equal((EnqueueOutcome.Enqueued, JobState.Pending), (stored.Outcome, stored.State));
        var stranger = NewJob(queue: "batch", tenant: "globex") with { BatchId = batch.Id };
        AssertRefusedFor(batch.Id, await Store.EnqueueAsync(stranger, Ct));
        Assert.Null(await Store.GetAsync("globex", stranger.Id, Ct));

        await RunOneAsync("batch", AckOutcome.Succeeded);
        await RunOneAsync("batch", AckOutcome.Succeeded);
        var finished = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 2, 2), (finished!.State, finished.Total, finished.Succeeded));
        await AssertStateAsync(onSuccess.Id, JobState.Pending);

        var late = NewJob(queue: "batch") with { BatchId = batch.Id };
        AssertRefusedFor(batch.Id, await Store.EnqueueAsync(late, Ct));
        var plain = NewJob(queue: "batch");
        var lateInMany = NewJob(queue: "batch") with { BatchId = batch.Id };
        var many = await Store.EnqueueManyAsync([plain, lateInMany], Ct);
        Assert.Equal(EnqueueOutcome.Enqueued, many[0].Outcome);
        AssertRefusedFor(batch.Id, many[1]);
        var lateAllOrNone = NewJob(queue: "batch") with { BatchId = batch.Id };
        var all = await Store.EnqueueAllOrNoneAsync([NewJob(queue: "batch"), lateAllOrNone], Ct);
        Assert.Equal((false, 1, EnqueueOutcome.DependencyNotFound, batch.Id), (all.AllStored, all.RefusedIndex, all.Refusal!.Outcome, all.Refusal.JobId));

        foreach (var id in new[] { late.Id, lateInMany.Id, lateAllOrNone.Id })
        {
            Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
        }

        Assert.Equal(finished, await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct));
    }

    [Fact]
    public async Task Member_EnqueuedNamingACancelledBatch_IsRefused_AndTheBatchFinishesWithItsOwnMembers()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, onComplete) = await CreateBatchAsync(2);
        var running = await DequeueOneAsync("batch");
        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));

        var late = NewJob(queue: "batch") with { BatchId = batch.Id };
        AssertRefusedFor(batch.Id, await Store.EnqueueAsync(late, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, late.Id, Ct));
        await AssertNothingToDequeueAsync("batch");
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 2, 1, 1), (info!.State, info.Total, info.Cancelled, info.Unfinished));
        Assert.True(await AckAsync(Ack(running, AckOutcome.Succeeded)));
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 2, 0), (info!.State, info.Total, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
    }

    private static void AssertRefusedFor(string batchId, EnqueueResult result) =>
        Assert.Equal((EnqueueOutcome.DependencyNotFound, batchId), (result.Outcome, result.JobId));
}
