namespace Conveyor.Storage.Conformance;

/// <summary>
/// One acknowledgement call that ends batch members among other jobs resolves as acknowledgements one job each would,
/// in its order (here also the jobs' id order and the order they were stored in, in which a store may apply a call's
/// ends: PostgreSQL resolves a statement's ends by id, SQLite's one statement ends its rows by seq), whatever path a
/// store takes for the members it can end without the per-job workflow step: the batches finish, and what waits for
/// them and for the other jobs is released or ended, in that order. Visible as the order in which jobs released by one
/// call are dequeued, and as the end of a job that waits for two batches that both finish without success in the call.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task MemberEndOrder_PlainJobThenBatchsLastMember_ReleasesTheJobsContinuationFirst()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (acks, continuation, callback) = await LeasePlainJobAndBatchsLastMemberAsync();

        Assert.Equal(2, await Store.AcknowledgeManyAsync(acks, Ct));

        Assert.Equal(continuation, (await DequeueOneAsync("next")).Id);
        Assert.Equal(callback, (await DequeueOneAsync("next")).Id);
    }

    [Fact]
    public async Task MemberEndOrder_PlainJobThenBatchsLastMember_InTheHandOff_LeasesTheJobsContinuationFirst()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (acks, continuation, callback) = await LeasePlainJobAndBatchsLastMemberAsync();

        var result = await Store.AcknowledgeAndTakeReleasedAsync(acks, Request(1, serverId: "server-b", queues: "next"), Ct);

        Assert.Equal(2, result.Applied);
        var first = TakesReleasedJobs ? Assert.Single(result.Leased) : await DequeueOneAsync("next");
        Assert.Equal(continuation, first.Id);
        Assert.Equal(callback, (await DequeueOneAsync("next")).Id);
    }

    [Fact]
    public async Task MemberEndOrder_BatchFinishedMidCall_ReleasesItsCallbackBeforeOneOfABatchFinishedLater()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (members, early, late) = await CreateTwoBatchesAsync();
        var leased = await LeaseAsync(3, "work");

        Assert.Equal(3, await Store.AcknowledgeManyAsync([.. members.Select(id => Ack(leased[id], AckOutcome.Succeeded))], Ct));

        Assert.Equal(early.Callback, (await DequeueOneAsync("next")).Id);
        Assert.Equal(late.Callback, (await DequeueOneAsync("next")).Id);
        Assert.Equal(BatchState.Succeeded, (await Store.GetBatchAsync(early.Id, DefaultTenant, Ct))!.State);
        Assert.Equal(BatchState.Succeeded, (await Store.GetBatchAsync(late.Id, DefaultTenant, Ct))!.State);
    }

    /// <summary>
    /// A job waiting for two batches that both finish without success in one call is ended by the one that finished first
    /// in the call's order (here failed, by that link's policy, naming it); the second finds it no longer waiting.
    /// </summary>
    [Fact]
    public async Task MemberEndOrder_JobWaitingForTwoBatchesCompletedInOneCall_IsEndedByTheFirstToFinish()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (members, early, late) = await CreateTwoBatchesAsync(failingMembers: true);
        var both = await WaitForBothThenFailOneMemberOfEachAsync(late.Id, early.Id);
        var leased = await LeaseAsync(3, "work");

        Assert.Equal(3, await Store.AcknowledgeManyAsync([.. members.Select(id => Ack(leased[id], AckOutcome.Succeeded))], Ct));

        var resolved = await GetAsync(both);
        Assert.Equal(JobState.Failed, resolved.State);
        Assert.Equal(WorkflowMessages.DependencyFailed(early.Id), Assert.Single(resolved.Errors).Message);
        Assert.Equal(BatchState.Completed, (await Store.GetBatchAsync(early.Id, DefaultTenant, Ct))!.State);
        Assert.Equal(BatchState.Completed, (await Store.GetBatchAsync(late.Id, DefaultTenant, Ct))!.State);
    }

    /// <summary>
    /// As above, with the batch that finishes first ended by a member something else waits for (a continuation linked to
    /// it), and the other by a member nothing but its batch waits for.
    /// </summary>
    [Fact]
    public async Task MemberEndOrder_MemberWithAContinuationFinishingItsBatchFirst_EndsTheJobWaitingForBothBatches()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (withContinuation, plainMember) = TwoJobsInIdOrder("work");
        var early = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var late = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        Assert.True((await Store.CreateBatchAsync(early, [withContinuation with { BatchId = early.Id }, NewJob(queue: "failing") with { BatchId = early.Id }], Ct)).AllStored);
        Assert.True((await Store.CreateBatchAsync(late, [plainMember with { BatchId = late.Id }, NewJob(queue: "failing") with { BatchId = late.Id }], Ct)).AllStored);
        var continuation = await EnqueueAsync(After(NewJob(queue: "next"), withContinuation.Id));
        var both = await WaitForBothThenFailOneMemberOfEachAsync(late.Id, early.Id);
        var leased = await LeaseAsync(2, "work");

        Assert.Equal(2, await Store.AcknowledgeManyAsync(
            [Ack(leased[withContinuation.Id], AckOutcome.Succeeded), Ack(leased[plainMember.Id], AckOutcome.Succeeded)], Ct));

        var resolved = await GetAsync(both);
        Assert.Equal(JobState.Failed, resolved.State);
        Assert.Equal(WorkflowMessages.DependencyFailed(early.Id), Assert.Single(resolved.Errors).Message);
        Assert.Equal(continuation, (await DequeueOneAsync("next")).Id);
    }

    /// <summary>
    /// A plain job with a continuation, then (in id order and stored after it) the only member of a batch with a success
    /// callback, both leased: the two successes, in that order, and the continuation and callback they release (queue
    /// "next").
    /// </summary>
    private async Task<(JobAcknowledgement[] Acks, string Continuation, string Callback)> LeasePlainJobAndBatchsLastMemberAsync()
    {
        var (plain, member) = TwoJobsInIdOrder("work");
        await EnqueueAsync(plain);
        var continuation = await EnqueueAsync(After(NewJob(queue: "next"), plain.Id));
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var callback = NewJob(queue: "next") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        Assert.True((await Store.CreateBatchAsync(batch, [member with { BatchId = batch.Id }, callback], Ct)).AllStored);
        var leased = await LeaseAsync(2, "work");
        return ([Ack(leased[plain.Id], AckOutcome.Succeeded), Ack(leased[member.Id], AckOutcome.Succeeded)], continuation, callback.Id);
    }

    private static (NewJob First, NewJob Second) TwoJobsInIdOrder(string queue)
    {
        var jobs = new[] { NewJob(queue: queue), NewJob(queue: queue) }.OrderBy(static j => j.Id, StringComparer.Ordinal).ToArray();
        return (jobs[0], jobs[1]);
    }

    /// <summary>
    /// Two batches and three members in id order: the first and the last of batch Late, the second the only one of batch
    /// Early (each batch with one more member in queue "failing" when asked); each batch has a callback in queue "next"
    /// that runs whatever its outcome. Acknowledged in id order, Early finishes first. The members are stored in id
    /// order, and Early's callback before Late's (PostgreSQL dequeues jobs released at one time in the order they were
    /// stored).
    /// </summary>
    private async Task<(string[] Members, (string Id, string Callback) Early, (string Id, string Callback) Late)> CreateTwoBatchesAsync(bool failingMembers = false)
    {
        var jobs = Enumerable.Range(0, 3).Select(_ => NewJob(queue: "work")).OrderBy(static j => j.Id, StringComparer.Ordinal).ToArray();
        var early = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var late = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var earlyCallback = NewJob(queue: "next") with { DependsOn = [new JobDependency(early.Id, SuccessOnly: false, OnBatch: true)] };
        var lateCallback = NewJob(queue: "next") with { DependsOn = [new JobDependency(late.Id, SuccessOnly: false, OnBatch: true)] };
        NewJob[] lateJobs = [jobs[0] with { BatchId = late.Id }];
        NewJob[] earlyJobs = [jobs[1] with { BatchId = early.Id }, earlyCallback];
        if (failingMembers)
        {
            lateJobs = [.. lateJobs, NewJob(queue: "failing") with { BatchId = late.Id }];
            earlyJobs = [.. earlyJobs, NewJob(queue: "failing") with { BatchId = early.Id }];
        }

        Assert.True((await Store.CreateBatchAsync(late, lateJobs, Ct)).AllStored);
        Assert.True((await Store.CreateBatchAsync(early, earlyJobs, Ct)).AllStored);
        Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(lateCallback, Ct)).State);
        Assert.True((await Store.AddToBatchAsync(late.Id, DefaultTenant, [jobs[2] with { BatchId = late.Id }], Ct))!.AllStored);
        return ([.. jobs.Select(static j => j.Id)], (early.Id, earlyCallback.Id), (late.Id, lateCallback.Id));
    }

    private async Task<Dictionary<string, LeasedJob>> LeaseAsync(int count, string queue)
    {
        var leased = (await Store.DequeueAsync(Request(count, queues: queue), Ct)).ToDictionary(static j => j.Id);
        Assert.Equal(count, leased.Count);
        return leased;
    }

    /// <summary>
    /// A job waiting for both batches, cancelled when <paramref name="late"/> does not succeed and failed when
    /// <paramref name="early"/> does not; then each batch's member in queue "failing" fails.
    /// </summary>
    private async Task<string> WaitForBothThenFailOneMemberOfEachAsync(string late, string early)
    {
        var both = NewJob(queue: "joins") with
        {
            DependsOn =
            [
                new JobDependency(late, SuccessOnly: true, OnBatch: true),
                new JobDependency(early, SuccessOnly: true, OnBatch: true, FailIfUnmet: true),
            ],
        };
        Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(both, Ct)).State);
        await RunOneAsync("failing", AckOutcome.Failed);
        await RunOneAsync("failing", AckOutcome.Failed);
        return both.Id;
    }
}
