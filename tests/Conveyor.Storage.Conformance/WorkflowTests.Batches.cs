namespace Conveyor.Storage.Conformance;

public abstract partial class WorkflowTests
{
    /// <summary>Members of a new batch on <paramref name="queue"/>, its success and complete callbacks on "callbacks".</summary>
    protected static (NewBatch Batch, NewJob[] Members, NewJob OnSuccess, NewJob OnComplete) NewBatchOf(
        int members, string queue = "batch", string tenant = DefaultTenant)
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = tenant, Retention = TimeSpan.FromDays(1) };
        var jobs = Enumerable.Range(0, members).Select(_ => NewJob(queue: queue, tenant: tenant) with { BatchId = batch.Id }).ToArray();
        var onSuccess = NewJob(type: "batch:succeeded", queue: "callbacks", tenant: tenant) with { DependsOn = [new JobDependency(batch.Id, true, OnBatch: true)] };
        var onComplete = NewJob(type: "batch:completed", queue: "callbacks", tenant: tenant) with { DependsOn = [new JobDependency(batch.Id, false, OnBatch: true)] };
        return (batch, jobs, onSuccess, onComplete);
    }

    private async Task<(NewBatch Batch, NewJob[] Members, NewJob OnSuccess, NewJob OnComplete)> CreateBatchAsync(int members, string tenant = DefaultTenant)
    {
        var created = NewBatchOf(members, tenant: tenant);
        var result = await Store.CreateBatchAsync(created.Batch, [.. created.Members, created.OnSuccess, created.OnComplete], Ct);
        Assert.True(result.AllStored);
        return created;
    }

    [Fact]
    public async Task Batch_MembersAreLeasedWithTheirBatchId_PlainJobsWithout()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(2);
        var plain = await EnqueueAsync(NewJob(queue: "batch"));

        var leased = await Store.DequeueAsync(Request(10, queues: "batch"), Ct);

        Assert.Equal(3, leased.Count);
        Assert.All(leased.Where(j => j.Id != plain), j => Assert.Equal(batch.Id, j.BatchId));
        Assert.Null(Assert.Single(leased, j => j.Id == plain).BatchId);
    }

    [Fact]
    public async Task Batch_AllSucceed_BothCallbacksReleasedOnceWithTheLastJob()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, onComplete) = await CreateBatchAsync(3);

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 3, 3, 0), (info!.State, info.Total, info.Unfinished, info.Progress));
        await AssertStateAsync(onSuccess.Id, JobState.Waiting);
        Assert.Equal(batch.Id, (await GetAsync(members[0].Id)).BatchId);

        await RunOneAsync("batch", AckOutcome.Succeeded);
        await RunOneAsync("batch", AckOutcome.Succeeded);
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 2, 66), (info!.State, info.Succeeded, info.Progress));
        await AssertNothingToDequeueAsync("callbacks");

        await RunOneAsync("batch", AckOutcome.Succeeded);

        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 3, 0, 100), (info!.State, info.Succeeded, info.Unfinished, info.Progress));
        Assert.Equal(Now, info.FinishedAt);
        var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
    }

    [Fact]
    public async Task Batch_OneFails_SuccessCallbackCancelled_CompleteCallbackReleased()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(2);

        await RunOneAsync("batch", AckOutcome.Failed);
        await AssertStateAsync(onComplete.Id, JobState.Waiting);
        await RunOneAsync("batch", AckOutcome.Succeeded);

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 1, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
    }

    [Fact]
    public async Task Batch_LastTwoJobsFinishedConcurrently_CallbackReleasedExactlyOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 5; round++)
        {
            var (_, _, _, onComplete) = await CreateBatchAsync(2);
            var leased = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
            Assert.Equal(2, leased.Count);

            await Task.WhenAll(
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[0], AckOutcome.Succeeded)], Ct)),
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[1], AckOutcome.Failed, Error(1))], Ct)));

            Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
            await AssertNothingToDequeueAsync("callbacks");
        }
    }

    [Fact]
    public async Task Batch_WholeBatchInOneAcknowledgement_CountedByOutcome_CallbacksResolvedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(5);
        var leased = await Store.DequeueAsync(Request(5, queues: "batch"), Ct);
        Assert.Equal(5, leased.Count);

        var outcomes = new[] { AckOutcome.Succeeded, AckOutcome.Failed, AckOutcome.Succeeded, AckOutcome.Cancelled, AckOutcome.Succeeded };
        Assert.Equal(5, await Store.AcknowledgeManyAsync([.. leased.Select((job, i) => Ack(job, outcomes[i], outcomes[i] == AckOutcome.Failed ? Error(1) : null))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 3, 1, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Fact]
    public async Task Batches_TwoFinishedTogetherByTwoConcurrentAcknowledgements_EachCallbackReleasedOnce()
    {
        // Each acknowledgement carries one member of each batch, in opposite orders: both must go through (no
        // acknowledgement waits for the other in a cycle) and each batch must finish exactly once.
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 5; round++)
        {
            var first = await CreateBatchAsync(2);
            var second = await CreateBatchAsync(2);
            var leased = (await Store.DequeueAsync(Request(4, queues: "batch"), Ct)).ToDictionary(static j => j.Id);
            Assert.Equal(4, leased.Count);

            await Task.WhenAll(
                Task.Run(async () => await Store.AcknowledgeManyAsync(
                    [Ack(leased[first.Members[0].Id], AckOutcome.Succeeded), Ack(leased[second.Members[0].Id], AckOutcome.Succeeded)], Ct)),
                Task.Run(async () => await Store.AcknowledgeManyAsync(
                    [Ack(leased[second.Members[1].Id], AckOutcome.Succeeded), Ack(leased[first.Members[1].Id], AckOutcome.Succeeded)], Ct)));

            foreach (var batch in new[] { first.Batch, second.Batch })
            {
                var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
                Assert.Equal((BatchState.Succeeded, 2, 0), (info!.State, info.Succeeded, info.Unfinished));
            }

            var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
            Assert.Equal(new[] { first.OnSuccess.Id, first.OnComplete.Id, second.OnSuccess.Id, second.OnComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
            Assert.Equal(4, await Store.AcknowledgeManyAsync([.. callbacks.Select(static j => Ack(j, AckOutcome.Succeeded))], Ct));
        }
    }

    [Fact]
    public async Task Batch_AddedToWhileRunning_CallbacksWaitForTheNewJobs()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, _) = await CreateBatchAsync(1);
        var leased = await DequeueOneAsync("batch");
        var added = NewJob(queue: "batch") with { BatchId = batch.Id };

        var result = await Store.AddToBatchAsync(batch.Id, DefaultTenant, [added], Ct);

        Assert.True(result!.AllStored);
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 2, 1), (info!.State, info.Total, info.Unfinished));
        await AssertStateAsync(onSuccess.Id, JobState.Waiting);

        Assert.Equal(added.Id, await RunOneAsync("batch", AckOutcome.Succeeded));

        await AssertStateAsync(onSuccess.Id, JobState.Pending);
        var late = NewJob(queue: "batch") with { BatchId = batch.Id };
        Assert.Null(await Store.AddToBatchAsync(batch.Id, DefaultTenant, [late], Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, late.Id, Ct));
    }

    [Fact]
    public async Task Batch_Cancelled_UnstartedJobsCancelled_RunningOnesAsked_CompleteCallbackRunsAtTheEnd()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, onComplete) = await CreateBatchAsync(3);
        var running = await DequeueOneAsync("batch");

        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));

        Assert.False(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        foreach (var member in members.Where(m => m.Id != running.Id))
        {
            await AssertStateAsync(member.Id, JobState.Cancelled);
        }

        Assert.True((await GetAsync(running.Id)).CancelRequested);
        await AssertStateAsync(onComplete.Id, JobState.Waiting);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 2, 1), (info!.State, info.Cancelled, info.Unfinished));
        Assert.Null(await Store.AddToBatchAsync(batch.Id, DefaultTenant, [NewJob(queue: "batch") with { BatchId = batch.Id }], Ct));

        Assert.True(await AckAsync(Ack(running, AckOutcome.Cancelled)));

        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 3, 0), (info!.State, info.Cancelled, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
    }

    [Fact]
    public async Task Batch_IsInvisibleToOtherTenants()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(1, tenant: "acme");

        Assert.Null(await Store.GetBatchAsync(batch.Id, "globex", Ct));
        Assert.False(await Store.CancelBatchAsync(batch.Id, "globex", Ct));
        Assert.Null(await Store.AddToBatchAsync(batch.Id, "globex", [NewJob(queue: "batch", tenant: "globex") with { BatchId = batch.Id }], Ct));
        Assert.Equal(BatchState.Running, (await Store.GetBatchAsync(batch.Id, "acme", Ct))!.State);
        var callback = NewJob(queue: "callbacks", tenant: "globex") with { DependsOn = [new JobDependency(batch.Id, false, OnBatch: true)] };
        Assert.Equal(EnqueueOutcome.DependencyNotFound, (await Store.EnqueueAsync(callback, Ct)).Outcome);
    }

    [Fact]
    public async Task Batch_OneJobRefused_NeitherTheBatchNorAnyJobIsStored()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        await EnqueueAsync(NewJob(id: "taken", queue: "other"));
        var (batch, members, onSuccess, _) = NewBatchOf(2);
        members[1] = members[1] with { Id = "taken" };

        var result = await Store.CreateBatchAsync(batch, [.. members, onSuccess], Ct);

        Assert.Equal((false, 1), (result.AllStored, result.RefusedIndex));
        Assert.Null(await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, members[0].Id, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, onSuccess.Id, Ct));
    }

    [Fact]
    public async Task Batch_CreatedAgainWithTheSameId_IsRefused_AndNothingOfTheSecondIsStored()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(1);
        var again = NewJob(queue: "batch") with { BatchId = batch.Id };

        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.CreateBatchAsync(batch, [again], Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, again.Id, Ct));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 1), (info!.State, info.Total));
    }

    [Fact]
    public async Task Batch_CallbackAddedAfterItFinished_IsResolvedAtOnce_AndTheRecordIsPurgedAfterItsRetention()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(1);
        await RunOneAsync("batch", AckOutcome.Failed);
        var late = NewJob(queue: "late") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var lateAny = NewJob(queue: "late") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)] };

        Assert.Equal(JobState.Cancelled, (await Store.EnqueueAsync(late, Ct)).State);
        Assert.Equal(JobState.Pending, (await Store.EnqueueAsync(lateAny, Ct)).State);

        Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await Store.PurgeExpiredAsync(1000, Ct);
        Assert.Null(await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct));
    }
}
