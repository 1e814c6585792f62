namespace Conveyor.Storage.Conformance;

/// <summary>
/// Workflows at a size where a store batches its work: many members finishing at once from parallel callers, and a
/// workflow of hundreds of steps stored in one step, linked and released in order.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_ManyMembersAcknowledgedConcurrently_EachCallbackReleasedExactlyOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 3; round++)
        {
            var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(40);
            var leased = await Store.DequeueAsync(Request(40, queues: "batch"), Ct);
            Assert.Equal(40, leased.Count);

            // Eight callers at once: four acknowledge their members one by one, four in one call each.
            var applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
            {
                var mine = leased.Where((_, i) => i % 8 == caller).Select(j => Ack(j, AckOutcome.Succeeded)).ToList();
                if (caller % 2 == 1)
                {
                    return await Store.AcknowledgeManyAsync(mine, Ct);
                }

                var count = 0;
                foreach (var ack in mine)
                {
                    count += await Store.AcknowledgeManyAsync([ack], Ct);
                }

                return count;
            })));

            Assert.Equal(40, applied.Sum());
            var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
            Assert.Equal((BatchState.Succeeded, 40, 40, 0), (info!.State, info.Total, info.Succeeded, info.Unfinished));
            var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
            Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
            await AssertNothingToDequeueAsync("callbacks");
        }
    }

    [Fact]
    public async Task Workflow_HundredsOfStepsFanningOutAndIn_StoredInOneStep_ReleasedLevelByLevel()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // A root, 200 parts after it, 4 joins each after 50 parts, a final step after the joins, a callback on the batch.
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        NewJob Step(string queue) => NewJob(queue: queue) with { BatchId = batch.Id };
        var root = Step("root");
        var parts = Enumerable.Range(0, 200).Select(_ => After(Step("parts"), root.Id)).ToArray();
        var joins = Enumerable.Range(0, 4).Select(j => After(Step("joins"), parts.Where((_, i) => i % 4 == j).Select(static p => p.Id).ToArray())).ToArray();
        var final = After(Step("final"), joins.Select(static j => j.Id).ToArray());
        var onSuccess = NewJob(queue: "callbacks") with { DependsOn = [new JobDependency(batch.Id, true, OnBatch: true)] };

        var stored = await Store.CreateBatchAsync(batch, [root, .. parts, .. joins, final, onSuccess], Ct);

        Assert.True(stored.AllStored);
        Assert.Equal(JobState.Pending, stored.Results[0].State);
        Assert.All(stored.Results.Skip(1), static r => Assert.Equal(JobState.Waiting, r.State));
        Assert.Equal(206, (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))!.Total);
        await AssertNothingToDequeueAsync("parts", "joins", "final", "callbacks");

        await RunOneAsync("root", AckOutcome.Succeeded);
        var running = await Store.DequeueAsync(Request(500, queues: "parts"), Ct);
        Assert.Equal(200, running.Count);
        await AssertNothingToDequeueAsync("joins");

        // Every part in one acknowledgement, but the last one: the joins wait for it.
        var last = running.Single(j => j.Id == parts[^1].Id);
        Assert.Equal(199, await Store.AcknowledgeManyAsync(running.Where(j => j != last).Select(j => Ack(j, AckOutcome.Succeeded)).ToList(), Ct));
        var released = await Store.DequeueAsync(Request(10, queues: "joins"), Ct);
        Assert.Equal(joins[..3].Select(static j => j.Id).Order(), released.Select(static j => j.Id).Order());
        Assert.True(await AckAsync(Ack(last, AckOutcome.Succeeded)));
        var lastJoin = await DequeueOneAsync("joins");
        Assert.Equal(joins[3].Id, lastJoin.Id);

        Assert.Equal(4, await Store.AcknowledgeManyAsync([.. released.Select(j => Ack(j, AckOutcome.Succeeded)), Ack(lastJoin, AckOutcome.Succeeded)], Ct));
        await AssertNothingToDequeueAsync("callbacks");
        await RunOneAsync("final", AckOutcome.Succeeded);

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 206, 206), (info!.State, info.Total, info.Succeeded));
        Assert.Equal(onSuccess.Id, (await DequeueOneAsync("callbacks")).Id);
        await AssertNothingToDequeueAsync("callbacks");
    }

    /// <summary>
    /// One acknowledgement may carry more ends of one batch than a store can pass to one command (a Redis script
    /// unpacks at most about 8,000 values): all are counted, and the callbacks released once.
    /// </summary>
    [Fact]
    public async Task Batch_EightThousandMembersEndedInOneAcknowledgement_AllCounted_CallbacksReleasedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        const int Members = 8_200;
        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(Members);
        var leased = new List<LeasedJob>(Members);
        while (leased.Count < Members)
        {
            var taken = await Store.DequeueAsync(Request(1000, queues: "batch"), Ct);
            Assert.NotEmpty(taken);
            leased.AddRange(taken);
        }

        Assert.Equal(Members, await Store.AcknowledgeManyAsync([.. leased.Select(static j => Ack(j, AckOutcome.Succeeded))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, Members, 0), (info!.State, info.Succeeded, info.Unfinished));
        var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
    }
}
