namespace Conveyor.Storage.Conformance;

public abstract partial class WorkflowTests
{
    /// <summary>
    /// The finishing step counts a member in its batch before it resolves what waits for the member itself. That order
    /// is visible only to a job that waits for both the batch and its last member: when the member fails, the batch's
    /// finish resolves the job first (here: failed, by the batch link's policy, naming the batch), and the member's own
    /// link then finds it no longer waiting. Every store decides it the same way.
    /// </summary>
    [Fact]
    public async Task Batch_JobWaitingForTheBatchAndItsLastMember_IsResolvedByTheBatchFirst_Once()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var member = NewJob(queue: "batch") with { BatchId = batch.Id };
        var both = NewJob(queue: "callbacks") with
        {
            DependsOn =
            [
                new JobDependency(member.Id, SuccessOnly: true),
                new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true),
            ],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [member, both], Ct)).AllStored);
        await AssertStateAsync(both.Id, JobState.Waiting);

        await RunOneAsync("batch", AckOutcome.Failed);

        var resolved = await GetAsync(both.Id);
        Assert.Equal(JobState.Failed, resolved.State);
        var error = Assert.Single(resolved.Errors);
        Assert.Contains(batch.Id, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, resolved.Attempts);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 1, 0), (info!.State, info.Failed, info.Unfinished));
        await AssertNothingToDequeueAsync("callbacks");
    }

    /// <summary>
    /// One acknowledgement that ends every member of a batch decides as acknowledgements one member each would, in its
    /// order (here also the members' id order, in which a store may apply a call's ends): a job waiting for the batch
    /// and for one member that fails is resolved by that member when the batch is still unfinished at its end (the
    /// member's link names it), and by the batch when the member was the last (the batch link names the batch). A store
    /// may count a call's ends of one batch together, but not resolve them in another order.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Batch_EndedWholeInOneAcknowledgement_ResolvesAsItsEndsOneByOne(int failing)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var members = Enumerable.Range(0, 3).Select(_ => NewJob(queue: "batch") with { BatchId = batch.Id })
            .OrderBy(static j => j.Id, StringComparer.Ordinal).ToArray();
        var both = NewJob(queue: "callbacks") with
        {
            DependsOn =
            [
                new JobDependency(members[failing].Id, SuccessOnly: true),
                new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true),
            ],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, both], Ct)).AllStored);
        var leased = (await Store.DequeueAsync(Request(3, queues: "batch"), Ct)).ToDictionary(static j => j.Id);
        Assert.Equal(3, leased.Count);

        Assert.Equal(3, await Store.AcknowledgeManyAsync(
            [.. members.Select((m, i) => i == failing ? Ack(leased[m.Id], AckOutcome.Failed, Error(1)) : Ack(leased[m.Id], AckOutcome.Succeeded))], Ct));

        var resolved = await GetAsync(both.Id);
        var error = Assert.Single(resolved.Errors);
        if (failing == members.Length - 1)
        {
            Assert.Equal(JobState.Failed, resolved.State);
            Assert.Contains(batch.Id, error.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(JobState.Cancelled, resolved.State);
            Assert.Equal(WorkflowMessages.DependencyDidNotSucceed(members[failing].Id), error.Message);
        }

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 2, 1, 0, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
        await AssertNothingToDequeueAsync("callbacks");
    }

    /// <summary>
    /// A failed job's dependant that is a member of a batch is cancelled by the cascade and counted in its batch at that
    /// point of the call: with a later member of the batch still to come in the same acknowledgement, the batch is not
    /// finished by that count, so a job waiting for the batch and for another failed job of the call is resolved by that
    /// job first, as acknowledgements one job each would resolve it.
    /// </summary>
    [Fact]
    public async Task Batch_MemberCancelledByACascade_BeforeTheCallsLastMemberOfIt_DoesNotFinishTheBatchEarly()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var three = Enumerable.Range(0, 3).Select(_ => NewJob(queue: "batch")).OrderBy(static j => j.Id, StringComparer.Ordinal).ToArray();
        var (x, y, last) = (three[0], three[1], three[2] with { BatchId = batch.Id });
        var cascaded = NewJob(queue: "batch") with { BatchId = batch.Id, DependsOn = [new JobDependency(x.Id, SuccessOnly: true)] };
        var both = NewJob(queue: "callbacks") with
        {
            DependsOn =
            [
                new JobDependency(y.Id, SuccessOnly: true),
                new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true),
            ],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [x, y, last, cascaded, both], Ct)).AllStored);
        var leased = (await Store.DequeueAsync(Request(3, queues: "batch"), Ct)).ToDictionary(static j => j.Id);
        Assert.Equal(3, leased.Count);

        Assert.Equal(3, await Store.AcknowledgeManyAsync(
            [Ack(leased[x.Id], AckOutcome.Failed, Error(1)), Ack(leased[y.Id], AckOutcome.Failed, Error(1)), Ack(leased[last.Id], AckOutcome.Succeeded)], Ct));

        await AssertStateAsync(cascaded.Id, JobState.Cancelled);
        var resolved = await GetAsync(both.Id);
        var error = Assert.Single(resolved.Errors);
        Assert.Equal((JobState.Cancelled, WorkflowMessages.DependencyDidNotSucceed(y.Id)), (resolved.State, error.Message));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 1, 0, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled, info.Unfinished));
    }
}
