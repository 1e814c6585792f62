namespace Conveyor.Storage.Conformance;

/// <summary>
/// Batch members' successes ended together in one acknowledgement call (which a store may write by a path of its own,
/// <see cref="JobAcknowledgement.BatchId"/>) store what acknowledgements one member each would: each member counted
/// once, the batch finished once at the call's time, its callbacks released or ended once, the queue's counts moved.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task MemberEnds_OneMemberAcknowledgedTwiceInOneCall_IsCountedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(2);
        var leased = await LeaseAsync(2, "batch");
        var (first, second) = (leased.Values.First(), leased.Values.Last());

        Assert.Equal(2, await Store.AcknowledgeManyAsync(
            [Ack(first, AckOutcome.Succeeded), Ack(first, AckOutcome.Succeeded), Ack(second, AckOutcome.Succeeded), Ack(second, AckOutcome.Succeeded)], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 2, 0), (info!.State, info.Succeeded, info.Unfinished));
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id).Order());
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Fact]
    public async Task MemberEnds_ContinuationLinkedToAMemberAfterItWasLeased_IsReleasedAndTheMemberCountedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(2);
        var leased = await LeaseAsync(2, "batch");
        var linked = leased.Values.First();
        var next = await EnqueueAsync(After(NewJob(queue: "children"), linked.Id));
        await AssertStateAsync(next, JobState.Waiting);

        Assert.Equal(2, await Store.AcknowledgeManyAsync([.. leased.Values.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 2, 0), (info!.State, info.Succeeded, info.Unfinished));
        Assert.Equal(next, (await DequeueOneAsync("children")).Id);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id).Order());
    }

    [Fact]
    public async Task MemberEnds_MixedOutcomesInOneCall_AreCountedAndTimedAsOneByOne()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(4);
        var leased = (await Store.DequeueAsync(Request(4, queues: "batch"), Ct)).OrderBy(static j => j.Id, StringComparer.Ordinal).ToArray();
        Assert.Equal(4, leased.Length);
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(4, await Store.AcknowledgeManyAsync(
            [Ack(leased[0], AckOutcome.Succeeded), Ack(leased[1], AckOutcome.Failed, Error(1)), Ack(leased[2], AckOutcome.Succeeded), Ack(leased[3], AckOutcome.Succeeded)], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 3, 1, 0, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
        Assert.Equal(Now, info.FinishedAt);
        foreach (var job in leased.Where((_, i) => i != 1))
        {
            var member = await GetAsync(job.Id);
            Assert.Equal((JobState.Succeeded, 100, Now), (member.State, member.Progress, member.CompletedAt));
        }

        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        var stats = await StatsOfAsync("batch");
        Assert.Equal((0, 0, 3, 1), (stats.Pending, stats.Active, stats.Succeeded, stats.Failed));
    }

    [Fact]
    public async Task MemberEnds_BatchCancelledWhileMembersRun_TheirSuccessesInOneCall_FinishItCancelledOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(3);
        var running = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
        Assert.Equal(2, running.Count);
        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));
        Assert.True((await GetAsync(running[0].Id)).CancelRequested);

        Assert.Equal(2, await Store.AcknowledgeManyAsync([.. running.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 2, 1, 0), (info!.State, info.Succeeded, info.Cancelled, info.Unfinished));
        Assert.Equal(Now, info.FinishedAt);
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Fact]
    public async Task MemberEnds_RetriedMemberRejoiningItsBatch_EndsWithTheOthersInOneCall_CountedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, _) = await CreateBatchAsync(3);
        var failed = await RunOneAsync("batch", AckOutcome.Failed);
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, failed, Ct));
        var leased = await LeaseAsync(3, "batch");
        Assert.Contains(failed, leased.Keys);

        Assert.Equal(3, await Store.AcknowledgeManyAsync([.. leased.Values.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 3, 0, 0), (info!.State, info.Succeeded, info.Failed, info.Unfinished));
        Assert.Contains(onSuccess.Id, (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id));
    }

    [Fact]
    public async Task MemberEnds_LastMembersInTheHandOff_LeaseTheCallbacksOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(3);
        var leased = await LeaseAsync(3, "batch");

        var result = await Store.AcknowledgeAndTakeReleasedAsync(
            [.. leased.Values.Select(job => Ack(job, AckOutcome.Succeeded))], Request(10, serverId: "server-b", queues: "callbacks"), Ct);

        Assert.Equal(3, result.Applied);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 3), (info!.State, info.Succeeded));
        var callbacks = TakesReleasedJobs ? result.Leased : await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Theory]
    [InlineData(AckOutcome.Succeeded)]
    [InlineData(AckOutcome.Failed)]
    public async Task MemberEnds_WorkflowStepsEndedInOneCall_WithAStepAfterOne_ResolveItAndCountEachOnce(AckOutcome first)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, onComplete) = NewBatchOf(3);
        var workflow = new WorkflowDefinition("report", [
            new WorkflowStepDefinition("extract", members[0].Id, []),
            new WorkflowStepDefinition("side", members[1].Id, []),
            new WorkflowStepDefinition("publish", members[2].Id, ["extract"]),
        ]);
        Assert.True((await Store.CreateBatchAsync(batch with { Workflow = workflow }, [members[0], members[1], After(members[2], members[0].Id), onSuccess, onComplete], Ct)).AllStored);
        var leased = await LeaseAsync(2, "batch");
        Assert.Equal(new[] { members[0].Id, members[1].Id }.Order(), leased.Keys.Order());

        Assert.Equal(2, await Store.AcknowledgeManyAsync(
            [Ack(leased[members[1].Id], AckOutcome.Succeeded), Ack(leased[members[0].Id], first, first == AckOutcome.Failed ? Error(1) : null)], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        if (first == AckOutcome.Succeeded)
        {
            Assert.Equal((BatchState.Running, 2, 1), (info!.State, info.Succeeded, info.Unfinished));
            Assert.Equal(members[2].Id, (await RunOneAsync("batch", AckOutcome.Succeeded)));
            info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
            Assert.Equal((BatchState.Succeeded, 3, 0), (info!.State, info.Succeeded, info.Unfinished));
            Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id).Order());
        }
        else
        {
            Assert.Equal((BatchState.Completed, 1, 1, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
            await AssertStateAsync(members[2].Id, JobState.Cancelled);
            await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
            Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
        }

        await AssertNothingToDequeueAsync("callbacks", "batch");
    }
}
