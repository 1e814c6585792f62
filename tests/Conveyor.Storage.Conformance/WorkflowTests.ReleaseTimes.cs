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

    // A server's dequeue takes its time when it is sent, and can run after another server's acknowledgement, begun
    // later, released the job: the job must not show a start before what it waited for ended. Every way a store
    // leases (one queue, several, a fair queue, concurrency limits near their maximum) does it.
    [Theory]
    [InlineData("one queue")]
    [InlineData("several queues")]
    [InlineData("fair queue")]
    [InlineData("limited")]
    [InlineData("limited, several queues")]
    public async Task Dequeue_SentBeforeTheJobWasReleased_StartsItNoEarlierThanItsDependencyEnded(string how)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "parents"));
        var c = After(NewJob(queue: "children"), a);
        Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(c, Ct)).State);
        var parent = await DequeueOneAsync("parents");
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(10));
        Assert.True(await AckAsync(Ack(parent, AckOutcome.Succeeded)));

        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(5));
        ConcurrencyLimitRule[] perTenant = [new() { Queue = "children", PerTenant = true, Max = 1 }];
        var request = how switch
        {
            "one queue" => Request(1, queues: "children"),
            "several queues" => Request(1, queues: ["children", "others"]),
            "fair queue" => Request(1, queues: "children") with { FairQueues = [new FairQueue("children", "")] },
            "limited" => Request(2, queues: "children") with { ConcurrencyLimits = perTenant },
            _ => Request(2, queues: ["children", "others"]) with { ConcurrencyLimits = perTenant },
        };
        var leased = await Store.DequeueAsync(request, Ct);

        Assert.Equal(c.Id, Assert.Single(leased).Id);
        var ended = (await GetAsync(a)).CompletedAt;
        var started = (await GetAsync(c.Id)).StartedAt;
        Assert.Equal(StartTime + TimeSpan.FromSeconds(10), ended);
        Assert.True(started >= ended, $"started {started:O}, before its dependency ended {ended:O}");
    }

    // The same for a job pending since its creation: a dequeue sent before another process enqueued it must not show it
    // started before it existed.
    [Fact]
    public async Task Dequeue_SentBeforeTheJobWasEnqueued_StartsItNoEarlierThanItWasCreated()
    {
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(10));
        var id = await EnqueueAsync(NewJob(queue: "plain"));
        Time.AdjustTime(StartTime + TimeSpan.FromSeconds(5));

        var leased = await DequeueOneAsync("plain");

        var job = await GetAsync(id);
        Assert.Equal(id, leased.Id);
        Assert.True(job.StartedAt >= job.CreatedAt, $"started {job.StartedAt:O}, before it was created {job.CreatedAt:O}");
    }
}
