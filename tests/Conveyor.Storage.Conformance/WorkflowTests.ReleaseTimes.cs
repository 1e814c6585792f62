namespace Conveyor.Storage.Conformance;

/// <summary>
/// A job released by an acknowledgement and leased in it (<see cref="IJobQueueStore.AcknowledgeAndTakeReleasedAsync"/>)
/// never shows a start earlier than the end of what it waited for. Two acknowledgements in flight at once (two servers)
/// each take their time when they begin: the one that releases the job may have begun before, but committed after, the
/// one that ended another of its dependencies. The clock moved back stands for that earlier time.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task TakeReleased_LastDependencyAcknowledgedWithAnEarlierTime_StartsNoEarlierThanADependencyEnded()
    {
        if (!SupportsWorkflows || !TakesReleasedJobs)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "parents"));
        var b = await EnqueueAsync(NewJob(queue: "parents"));
        var c = After(NewJob(queue: "children"), a, b);
        Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(c, Ct)).State);
        var parents = await Store.DequeueAsync(Request(2, queues: "parents"), Ct);
        Assert.Equal(2, parents.Count);

        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(10));
        Assert.True(await AckAsync(Ack(parents.Single(j => j.Id == a), AckOutcome.Succeeded)));
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(5));
        var result = await Store.AcknowledgeAndTakeReleasedAsync(
            [Ack(parents.Single(j => j.Id == b), AckOutcome.Succeeded)], Request(1, queues: "children"), Ct);

        Assert.Equal(c.Id, Assert.Single(result.Leased).Id);
        var ended = (await GetAsync(a)).CompletedAt;
        var started = (await GetAsync(c.Id)).StartedAt;
        Assert.Equal(StartTime + TimeSpan.FromSeconds(10), ended);
        Assert.True(started >= ended, $"started {started:O}, before its dependency ended {ended:O}");
    }

    [Fact]
    public async Task TakeReleased_BatchCallbackReleasedWithAnEarlierTime_StartsNoEarlierThanAJobItWaitedForEnded()
    {
        if (!SupportsWorkflows || !TakesReleasedJobs)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "parents"));
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var member = NewJob(queue: "batch") with { BatchId = batch.Id };
        var callback = NewJob(type: "batch:completed", queue: "callbacks") with
        {
            DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true), new JobDependency(a, SuccessOnly: false)],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [member, callback], Ct)).AllStored);
        var leasedA = await DequeueOneAsync("parents");
        var leasedMember = await DequeueOneAsync("batch");

        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(10));
        Assert.True(await AckAsync(Ack(leasedA, AckOutcome.Succeeded)));
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(5));
        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leasedMember, AckOutcome.Succeeded)], Request(1, queues: "callbacks"), Ct);

        Assert.Equal(callback.Id, Assert.Single(result.Leased).Id);
        var ended = (await GetAsync(a)).CompletedAt;
        var finished = (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))?.FinishedAt;
        var started = (await GetAsync(callback.Id)).StartedAt;
        Assert.NotNull(finished);
        Assert.True(started >= ended, $"started {started:O}, before the job it waited for ended {ended:O}");
        Assert.True(started >= finished, $"started {started:O}, before its batch finished {finished:O}");
    }

    // Two servers' acknowledgements of a batch's members: the one that ends the batch began before, but was stored
    // after, the one that ended another member. A black-box run on PostgreSQL and Redis read a batch finished, and its
    // callbacks started, 3–46 ms before a member completed.
    [Fact]
    public async Task Batch_LastMemberAcknowledgedWithAnEarlierTime_FinishesNoEarlierThanAMemberEnded()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var first = NewJob(queue: "batch") with { BatchId = batch.Id };
        var last = NewJob(queue: "batch") with { BatchId = batch.Id };
        var callback = NewJob(type: "batch:completed", queue: "callbacks") with
        {
            DependsOn = [new JobDependency(batch.Id, SuccessOnly: false, OnBatch: true)],
        };
        Assert.True((await Store.CreateBatchAsync(batch, [first, last, callback], Ct)).AllStored);
        var members = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
        Assert.Equal(2, members.Count);

        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(10));
        Assert.True(await AckAsync(Ack(members.Single(j => j.Id == first.Id), AckOutcome.Succeeded)));
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(5));
        Assert.True(await AckAsync(Ack(members.Single(j => j.Id == last.Id), AckOutcome.Succeeded)));

        var ended = (await GetAsync(first.Id)).CompletedAt;
        Assert.Equal(StartTime + TimeSpan.FromSeconds(10), ended);
        var finished = (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))?.FinishedAt;
        Assert.NotNull(finished);
        Assert.True(finished >= ended, $"finished {finished:O}, before a member ended {ended:O}");
        var released = await DequeueOneAsync("callbacks");
        Assert.Equal(callback.Id, released.Id);
        Assert.True(released.EnqueuedAt >= finished, $"the callback was released at {released.EnqueuedAt:O}, before its batch finished {finished:O}");
    }
}
