namespace Conveyor.Storage.Conformance;

/// <summary>
/// The failure policy of a success-only dependency (<see cref="JobDependency.FailIfUnmet"/>): when what it waits for
/// does not succeed, the waiting job is failed (no attempt, an error naming the dependency, the failed retention)
/// rather than cancelled, in the same atomic step, and its own dependants follow by their own policy.
/// </summary>
public abstract partial class WorkflowTests
{
    protected static NewJob AfterElseFail(NewJob job, params string[] dependencies) =>
        job with { DependsOn = dependencies.Select(static d => new JobDependency(d, SuccessOnly: true, FailIfUnmet: true)).ToArray() };

    [Theory]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Cancelled)]
    public async Task FailPolicy_ParentDoesNotSucceed_DependantFailsSayingWhy_AndItsDependantsFollowTheirOwnPolicy(AckOutcome outcome)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "chain"));
        var b = await EnqueueAsync(AfterElseFail(NewJob(queue: "chain", failedRetention: TimeSpan.FromDays(9)), a));
        var cancelledAfterB = await EnqueueAsync(After(NewJob(queue: "chain"), b));
        var failedAfterB = await EnqueueAsync(AfterElseFail(NewJob(queue: "chain"), b));
        var anyAfterB = await EnqueueAsync(AfterAny(NewJob(queue: "chain"), b));

        await RunOneAsync("chain", outcome);

        var failed = await GetAsync(b);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(0, failed.Attempts);
        Assert.Equal(Now, failed.CompletedAt);
        var error = Assert.Single(failed.Errors);
        Assert.Equal(WorkflowMessages.DependencyFailed(a), error.Message);
        await AssertStateAsync(cancelledAfterB, JobState.Cancelled);
        Assert.Contains((await GetAsync(cancelledAfterB)).Errors, e => e.Message == WorkflowMessages.DependencyDidNotSucceed(b));
        await AssertStateAsync(failedAfterB, JobState.Failed);
        Assert.Contains((await GetAsync(failedAfterB)).Errors, e => e.Message == WorkflowMessages.DependencyFailed(b));
        await AssertStateAsync(anyAfterB, JobState.Pending);
        Assert.Equal(anyAfterB, (await DequeueOneAsync("chain")).Id);
        var stats = await StatsOfAsync("chain");
        Assert.Equal((0, outcome == AckOutcome.Failed ? 3 : 2), (stats.Waiting, stats.Failed));
    }

    [Fact]
    public async Task FailPolicy_ParentSucceeds_DependantIsReleased_AndTheLinkReadsBack()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(AfterElseFail(NewJob(queue: "children"), parent));

        Assert.Equal([new JobDependency(parent, SuccessOnly: true, FailIfUnmet: true)], (await GetAsync(child)).DependsOn);
        await RunOneAsync("parents", AckOutcome.Succeeded);

        await AssertStateAsync(child, JobState.Pending);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    public async Task FailPolicy_OfAnAlreadyUnsuccessfulJob_IsFailedAtOnce(JobState parentState)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await CreateJobInStateAsync(parentState, NewJob(queue: "parents"));
        var child = AfterElseFail(NewJob(queue: "children"), parent);

        var stored = await Store.EnqueueAsync(child, Ct);

        Assert.Equal((EnqueueOutcome.Enqueued, JobState.Failed), (stored.Outcome, stored.State));
        var info = await GetAsync(child.Id);
        Assert.Equal(JobState.Failed, info.State);
        Assert.Equal(WorkflowMessages.DependencyFailed(parent), Assert.Single(info.Errors).Message);
        await AssertNothingToDequeueAsync("children");
    }

    [Fact]
    public async Task FailPolicy_DeletedDependency_FailsTheDependant()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(AfterElseFail(NewJob(queue: "children"), parent));

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, parent, Ct));

        await AssertStateAsync(child, JobState.Failed);
    }

    [Fact]
    public async Task FailPolicy_InABatch_FailedDependantCountsAsFailed_AndAFailPolicyCallbackFails()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, _, onComplete) = NewBatchOf(1);
        var first = members[0];
        var second = AfterElseFail(NewJob(queue: "batch") with { BatchId = batch.Id }, first.Id);
        var onSuccess = NewJob(type: "batch:succeeded", queue: "callbacks") with
        {
            DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true)],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [first, second, onSuccess, onComplete], Ct)).AllStored);

        await RunOneAsync("batch", AckOutcome.Failed);

        await AssertStateAsync(second.Id, JobState.Failed);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 0, 2, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled));
        await AssertStateAsync(onSuccess.Id, JobState.Failed);
        Assert.Contains((await GetAsync(onSuccess.Id)).Errors, e => e.Message == WorkflowMessages.DependencyFailed(batch.Id));
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
    }

    [Fact]
    public async Task FailPolicy_FailedDependant_KeptForTheFailedRetention()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(AfterElseFail(
            NewJob(queue: "children", retention: TimeSpan.FromHours(1), failedRetention: TimeSpan.FromDays(2), cancelledRetention: TimeSpan.FromHours(1)),
            parent));
        await RunOneAsync("parents", AckOutcome.Cancelled);
        await AssertStateAsync(child, JobState.Failed);

        Time.Advance(TimeSpan.FromDays(1));
        await Store.PurgeExpiredAsync(100, Ct);
        await AssertStateAsync(child, JobState.Failed);

        Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await Store.PurgeExpiredAsync(100, Ct);
        Assert.Null(await Store.GetAsync(DefaultTenant, child, Ct));
    }

    // Three times the largest workflow the Jobs API takes (1,000 steps), and well past SQLite's trigger depth (1,000).
    private const int CancelledChainLength = 3000;

    [Fact]
    public async Task Chain_OfThousandsOfSuccessOnlySteps_IsCancelledWholeByTheFailureOfItsFirst()
    {
        // A cancellation cascades down the chain inside the one acknowledgement that fails its first step, with no
        // depth limit: one statement over the closure on SQLite (whose nested triggers stop at a depth of 1,000),
        // rounds of one statement trigger on PostgreSQL, a work list in Redis's script.
        if (!SupportsWorkflows)
        {
            return;
        }

        // Stored a few hundred links per call (a dependency may be an earlier job of the same list): one call per
        // link made this test take half a minute on PostgreSQL, and the enqueue is not what it is about.
        var first = await EnqueueAsync(NewJob(queue: "long-chain"));
        var links = new List<NewJob>(CancelledChainLength);
        var previous = first;
        for (var i = 0; i < CancelledChainLength; i++)
        {
            links.Add(After(NewJob(queue: "long-chain"), previous));
            previous = links[^1].Id;
        }

        foreach (var part in links.Chunk(500))
        {
            Assert.True((await Store.EnqueueAllOrNoneAsync(part, Ct)).AllStored);
        }

        var chain = links.ConvertAll(static j => j.Id);

        await RunOneAsync("long-chain", AckOutcome.Failed);

        await AssertStateAsync(chain[0], JobState.Cancelled);
        await AssertStateAsync(chain[^1], JobState.Cancelled);
        Assert.Contains((await GetAsync(chain[^1])).Errors, e => e.Message == WorkflowMessages.DependencyDidNotSucceed(chain[^2]));
        var stats = await StatsOfAsync("long-chain");
        Assert.Equal((0, 0, CancelledChainLength), (stats.Waiting, stats.Pending, stats.Cancelled));
    }
}
