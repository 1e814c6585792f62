namespace Conveyor.Storage.Conformance;

/// <summary>
/// A failure's cascade through a whole graph in the one step that fails its root: every job downstream on
/// success-only links ends once, by the policy of the link that reached it, while any-state links and batch counts
/// downstream are resolved as for any finish.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Cascade_ThroughADiamondABatchAFailPolicyAndAnAnyStateLink_EndsEachJobOnceByItsOwnLink()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // root ─► a ─┬─► j ─fail─► f ─► g      a and j are the batch's members; k runs after a whatever it became
        //      └► b ─┘                         (a diamond: j waits for both a and b)
        var root = await EnqueueAsync(NewJob(queue: "cascade-root"));
        var b = await EnqueueAsync(After(NewJob(queue: "cascade"), root));
        var (batch, _, onSuccess, onComplete) = NewBatchOf(0);
        var a = After(NewJob(queue: "cascade") with { BatchId = batch.Id }, root);
        var j = After(NewJob(queue: "cascade") with { BatchId = batch.Id }, a.Id, b);
        Assert.True((await Store.CreateBatchAsync(batch, [a, j, onSuccess, onComplete], Ct)).AllStored);
        var k = await EnqueueAsync(AfterAny(NewJob(queue: "cascade-any"), a.Id));
        var f = await EnqueueAsync(AfterElseFail(NewJob(queue: "cascade"), j.Id));
        var g = await EnqueueAsync(After(NewJob(queue: "cascade"), f));

        await RunOneAsync("cascade-root", AckOutcome.Failed);

        Assert.Equal(WorkflowMessages.DependencyDidNotSucceed(root), Assert.Single((await GetAsync(a.Id)).Errors).Message);
        Assert.Equal(WorkflowMessages.DependencyDidNotSucceed(root), Assert.Single((await GetAsync(b)).Errors).Message);
        var joined = await GetAsync(j.Id);
        Assert.Equal(JobState.Cancelled, joined.State);
        Assert.Contains(Assert.Single(joined.Errors).Message, new[] { WorkflowMessages.DependencyDidNotSucceed(a.Id), WorkflowMessages.DependencyDidNotSucceed(b) });
        var failed = await GetAsync(f);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(WorkflowMessages.DependencyFailed(j.Id), Assert.Single(failed.Errors).Message);
        Assert.Equal(WorkflowMessages.DependencyDidNotSucceed(f), Assert.Single((await GetAsync(g)).Errors).Message);
        var stats = await StatsOfAsync("cascade");
        Assert.Equal((0, 0, 4, 1), (stats.Waiting, stats.Pending, stats.Cancelled, stats.Failed));

        Assert.Equal(k, (await DequeueOneAsync("cascade-any")).Id);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 0, 0, 2), (info!.State, info.Succeeded, info.Failed, info.Cancelled));
        await AssertStateAsync(onSuccess.Id, JobState.Cancelled);
        Assert.Equal(onComplete.Id, (await DequeueOneAsync("callbacks")).Id);
    }

    [Fact]
    public async Task Cascade_ReachingACallbackItsBatchEndsFirst_EndsItOnce_ByTheBatch()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // m, the only member of batch x, waits for root; b, in batch y, waits for x (else it fails) and for m. When
        // root fails, m's end finishes x, which fails b, before the cascade from root reaches b through m.
        var root = await EnqueueAsync(NewJob(queue: "cascade-root"));
        var (x, _, _, _) = NewBatchOf(0);
        var m = After(NewJob(queue: "cascade") with { BatchId = x.Id }, root);
        Assert.True((await Store.CreateBatchAsync(x, [m], Ct)).AllStored);
        var (y, _, _, _) = NewBatchOf(0);
        var b = NewJob(queue: "cascade") with
        {
            BatchId = y.Id,
            DependsOn = [new JobDependency(x.Id, SuccessOnly: true, OnBatch: true, FailIfUnmet: true), new JobDependency(m.Id, SuccessOnly: true)],
        };
        Assert.True((await Store.CreateBatchAsync(y, [b], Ct)).AllStored);

        await RunOneAsync("cascade-root", AckOutcome.Failed);

        var ended = await GetAsync(b.Id);
        Assert.Equal(JobState.Failed, ended.State);
        Assert.Equal(WorkflowMessages.DependencyFailed(x.Id), Assert.Single(ended.Errors).Message);
        var info = await Store.GetBatchAsync(y.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Completed, 0, 1, 0), (info!.State, info.Succeeded, info.Failed, info.Cancelled));
    }

    [Fact]
    public async Task Cascade_FromABatchToTwoChainedCallbacks_EndsEachOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // c1 waits for the batch; c2 waits for the batch and for c1. The batch's only member fails: the batch ends
        // both, and c1's end reaches c2 too.
        var (batch, members, _, _) = NewBatchOf(1);
        var c1 = NewJob(queue: "callbacks") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true)] };
        var c2 = NewJob(queue: "callbacks") with { DependsOn = [new JobDependency(batch.Id, SuccessOnly: true, OnBatch: true), new JobDependency(c1.Id, SuccessOnly: true)] };
        Assert.True((await Store.CreateBatchAsync(batch, [.. members, c1, c2], Ct)).AllStored);

        await RunOneAsync("batch", AckOutcome.Failed);

        Assert.Equal(WorkflowMessages.DependencyDidNotSucceed(batch.Id), Assert.Single((await GetAsync(c1.Id)).Errors).Message);
        var second = await GetAsync(c2.Id);
        Assert.Equal(JobState.Cancelled, second.State);
        Assert.Contains(Assert.Single(second.Errors).Message, new[] { WorkflowMessages.DependencyDidNotSucceed(batch.Id), WorkflowMessages.DependencyDidNotSucceed(c1.Id) });
        var stats = await StatsOfAsync("callbacks");
        Assert.Equal((0, 0, 2), (stats.Waiting, stats.Pending, stats.Cancelled));
    }
}
