namespace Conveyor.Storage.Conformance;

/// <summary>
/// <see cref="IJobQueueStore.AcknowledgeAndTakeReleasedAsync"/>: an acknowledgement that releases waiting jobs may lease
/// them to the acknowledging server in the same step; it never leases anything when it released nothing, and a released
/// job is leased once, either there or by a later dequeue.
/// </summary>
public abstract partial class WorkflowTests
{
    /// <summary>True for a store that leases released jobs in the acknowledgement; false keeps the default (acknowledges only).</summary>
    protected virtual bool TakesReleasedJobs => false;

    [Fact]
    public async Task TakeReleased_BatchsLastMember_LeasesBothCallbacksToTheAcknowledgingServerOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (_, _, onSuccess, onComplete) = await CreateBatchAsync(2);
        var next = Request(10, serverId: "server-b", queues: ["batch", "callbacks"]);

        var first = await DequeueOneAsync("batch");
        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(first, AckOutcome.Succeeded)], next, Ct);
        Assert.Equal(1, result.Applied);
        Assert.Empty(result.Leased);
        await AssertStateAsync(onSuccess.Id, JobState.Waiting);

        var last = await DequeueOneAsync("batch");
        result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(last, AckOutcome.Succeeded)], next, Ct);

        Assert.Equal(1, result.Applied);
        await AssertStateAsync(last.Id, JobState.Succeeded);
        var callbacks = new[] { onSuccess.Id, onComplete.Id }.Order().ToArray();
        if (TakesReleasedJobs)
        {
            Assert.Equal(callbacks, result.Leased.Select(static j => j.Id).Order());
            await AssertNothingToDequeueAsync("callbacks");
            foreach (var job in result.Leased)
            {
                Assert.Equal(1, job.Attempt);
                Assert.Equal(Now + Lease, job.LeaseExpiresAt);
                Assert.Equal(JobState.Active, (await GetAsync(job.Id)).State);
                Assert.True(await AckAsync(Ack(job, AckOutcome.Succeeded)));
            }
        }
        else
        {
            Assert.Empty(result.Leased);
            Assert.Equal(callbacks, (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id).Order());
        }
    }

    [Fact]
    public async Task TakeReleased_ContinuationReleased_LeasedWithinTheRequestsLimit()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var children = Enumerable.Range(0, 3).Select(_ => After(NewJob(queue: "children"), parent)).ToArray();
        foreach (var child in children)
        {
            Assert.Equal(JobState.Waiting, (await Store.EnqueueAsync(child, Ct)).State);
        }

        var leased = await DequeueOneAsync("parents");
        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leased, AckOutcome.Succeeded)], Request(2, queues: "children"), Ct);

        Assert.Equal(1, result.Applied);
        var left = await Store.DequeueAsync(Request(10, queues: "children"), Ct);
        if (TakesReleasedJobs)
        {
            Assert.Equal(2, result.Leased.Count);
            Assert.Single(left);
        }
        else
        {
            Assert.Empty(result.Leased);
            Assert.Equal(3, left.Count);
        }

        Assert.Equal(children.Select(static c => c.Id).Order(), result.Leased.Concat(left).Select(static j => j.Id).Order());
    }

    [Fact]
    public async Task TakeReleased_OlderJobPendingInItsQueue_ReleasedJobNotTakenAheadOfIt()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var older = await EnqueueAsync(NewJob(queue: "children"));
        var child = After(NewJob(queue: "children"), parent);
        await Store.EnqueueAsync(child, Ct);
        var leased = await DequeueOneAsync("parents");

        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leased, AckOutcome.Succeeded)], Request(1, queues: "children"), Ct);

        Assert.Equal(1, result.Applied);
        Assert.DoesNotContain(child.Id, result.Leased.Select(static j => j.Id));
        var order = result.Leased.Concat(await Store.DequeueAsync(Request(10, queues: "children"), Ct)).Select(static j => j.Id).ToArray();
        Assert.Equal([older, child.Id], order);
    }

    [Fact]
    public Task TakeReleased_OlderJobOfItsQueueHandedBackInTheSameCall_ReleasedJobNotTakenAheadOfIt() =>
        HandedBackWithAReleaseAsync(parentQueue: "parents");

    [Fact]
    public Task TakeReleased_OlderJobHandedBackWithTheParentOfTheSameQueue_ReleasedJobNotTakenAheadOfIt() =>
        HandedBackWithAReleaseAsync(parentQueue: "children");

    [Fact]
    public Task TakeReleased_OlderJobHandedBackWhileTheParentsQueueHandsOneBackToo_ReleasedJobNotTakenAheadOfIt() =>
        HandedBackWithAReleaseAsync(parentQueue: "parents", handBackInParentsQueue: true);

    /// <summary>
    /// The parent's acknowledgement comes first in the call, an older job's hand-back after it (Released: a wait for a
    /// signal that ended, or a server stopping): the older job is at the head of its queue again, ahead of what the
    /// parent released into that queue.
    /// </summary>
    private async Task HandedBackWithAReleaseAsync(string parentQueue, bool handBackInParentsQueue = false)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: parentQueue));
        var older = await EnqueueAsync(NewJob(queue: "children"));
        var child = After(NewJob(queue: "children"), parent);
        await Store.EnqueueAsync(child, Ct);
        var sibling = handBackInParentsQueue ? await EnqueueAsync(NewJob(queue: parentQueue)) : null;
        var leasedParent = await DequeueOneAsync(parentQueue);
        var leasedOlder = await DequeueOneAsync("children");
        Assert.Equal((parent, older), (leasedParent.Id, leasedOlder.Id));
        List<JobAcknowledgement> acks = [Ack(leasedParent, AckOutcome.Succeeded)];
        if (sibling is not null)
        {
            acks.Add(Ack(await DequeueOneAsync(parentQueue), AckOutcome.Released));
        }

        acks.Add(Ack(leasedOlder, AckOutcome.Released));

        var result = await Store.AcknowledgeAndTakeReleasedAsync(acks, Request(1, queues: "children"), Ct);

        Assert.Equal(acks.Count, result.Applied);
        Assert.DoesNotContain(child.Id, result.Leased.Select(static j => j.Id));
        var order = result.Leased.Where(static j => j.Queue == "children").Concat(await Store.DequeueAsync(Request(10, queues: "children"), Ct)).Select(static j => j.Id).ToArray();
        Assert.Equal([older, child.Id], order);
    }

    [Fact]
    public async Task TakeReleased_IntoAPausedQueue_LeasesNothingAndLeavesItPending()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = After(NewJob(queue: "children"), parent);
        await Store.EnqueueAsync(child, Ct);
        await Store.PauseQueueAsync("children", Ct);
        var leased = await DequeueOneAsync("parents");

        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leased, AckOutcome.Succeeded)], Request(10, queues: ["parents", "children"]), Ct);

        Assert.Equal(1, result.Applied);
        Assert.Empty(result.Leased);
        await AssertStateAsync(child.Id, JobState.Pending);
    }

    [Fact]
    public async Task TakeReleased_NothingReleased_LeasesNothingThoughJobsArePending()
    {
        var pending = await EnqueueAsync(NewJob(queue: "other"));
        await EnqueueAsync(NewJob(queue: "work"));
        var running = await DequeueOneAsync("work");

        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(running, AckOutcome.Succeeded)], Request(10, queues: ["work", "other"]), Ct);

        Assert.Equal(1, result.Applied);
        Assert.Empty(result.Leased);
        await AssertStateAsync(running.Id, JobState.Succeeded);
        await AssertStateAsync(pending, JobState.Pending);
    }

    [Fact]
    public async Task TakeReleased_StaleLease_AppliesNothingReleasesNothingLeasesNothing()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = After(NewJob(queue: "children"), parent);
        await Store.EnqueueAsync(child, Ct);
        var leased = await DequeueOneAsync("parents");

        var result = await Store.AcknowledgeAndTakeReleasedAsync([Ack(leased, AckOutcome.Succeeded, leaseToken: leased.LeaseToken + 1)], Request(10, queues: "children"), Ct);

        Assert.Equal(0, result.Applied);
        Assert.Empty(result.Leased);
        await AssertStateAsync(parent, JobState.Active);
        await AssertStateAsync(child.Id, JobState.Waiting);
    }

    [Fact]
    public async Task TakeReleased_NullArguments_ThrowAndChangeNothing()
    {
        await EnqueueAsync(NewJob(queue: "work"));
        var running = await DequeueOneAsync("work");

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Store.AcknowledgeAndTakeReleasedAsync(null!, Request(1, queues: "work"), Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Store.AcknowledgeAndTakeReleasedAsync([Ack(running, AckOutcome.Succeeded)], null!, Ct));

        await AssertStateAsync(running.Id, JobState.Active);
    }
}
