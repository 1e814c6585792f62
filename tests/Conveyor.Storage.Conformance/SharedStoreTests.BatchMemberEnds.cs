namespace Conveyor.Storage.Conformance;

public abstract partial class SharedStoreTests
{
    /// <summary>
    /// Two instances (two processes) each end some members of one batch in one acknowledgement call: every member is
    /// counted once, and the batch finishes, and releases its callbacks, once.
    /// </summary>
    [Fact]
    public async Task Sibling_EachEndingMembersOfOneBatchInOneCall_FinishItOnce()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var members = Enumerable.Range(0, 4).Select(_ => NewJob(queue: "batch") with { BatchId = batch.Id }).ToArray();
        var callback = NewJob(queue: "callbacks") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, callback], Ct)).AllStored);
        var mine = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
        var theirs = await Sibling.DequeueAsync(Request(2, serverId: "server-b", queues: "batch"), Ct);
        Assert.Equal((2, 2), (mine.Count, theirs.Count));

        Assert.Equal(2, await Sibling.AcknowledgeManyAsync([.. theirs.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));
        Assert.Equal(2, await Store.AcknowledgeManyAsync([.. mine.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));

        var info = await Sibling.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 4, 0), (info!.State, info.Succeeded, info.Unfinished));
        Assert.Equal(callback.Id, Assert.Single(await Sibling.DequeueAsync(Request(10, serverId: "server-b", queues: "callbacks"), Ct)).Id);
        Assert.Empty(await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct));
    }
}
