namespace Conveyor.Storage.Conformance;

/// <summary>
/// The batch an acknowledgement names (<see cref="JobAcknowledgement.BatchId"/>, set by the server on a success) lets a
/// store end a batch's members by a path of its own; what is stored must not depend on it: a member acknowledged without
/// it, a member something else waits for, and a plain job or a stale lease that names a batch end as they would without.
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_MembersEndedWithAndWithoutTheirBatchNamed_InOneCall_AreEachCountedOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, onSuccess, onComplete) = await CreateBatchAsync(4);
        var leased = await Store.DequeueAsync(Request(4, queues: "batch"), Ct);
        Assert.Equal(4, leased.Count);
        Assert.All(leased, job => Assert.Equal(batch.Id, job.BatchId));

        Assert.Equal(3, await Store.AcknowledgeManyAsync(
            [Ack(leased[0], AckOutcome.Succeeded), Ack(leased[1], AckOutcome.Succeeded) with { BatchId = null }, Ack(leased[2], AckOutcome.Succeeded)], Ct));
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 3, 1), (info!.State, info.Succeeded, info.Unfinished));
        await AssertNothingToDequeueAsync("callbacks");

        Assert.Equal(1, await Store.AcknowledgeManyAsync([Ack(leased[3], AckOutcome.Succeeded) with { BatchId = null }], Ct));

        info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 4, 0), (info!.State, info.Succeeded, info.Unfinished));
        var callbacks = await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct);
        Assert.Equal(new[] { onSuccess.Id, onComplete.Id }.Order(), callbacks.Select(static j => j.Id).Order());
        await AssertNothingToDequeueAsync("callbacks");
    }

    [Fact]
    public async Task Batch_MemberWithAContinuation_EndedWithItsBatchNamed_ReleasesBoth()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, onSuccess, _) = await CreateBatchAsync(2);
        var next = await EnqueueAsync(After(NewJob(queue: "children"), members[0].Id));
        var leased = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
        Assert.Equal(2, leased.Count);

        Assert.Equal(2, await Store.AcknowledgeManyAsync([.. leased.Select(job => Ack(job, AckOutcome.Succeeded))], Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Succeeded, 2, 0), (info!.State, info.Succeeded, info.Unfinished));
        Assert.Equal(next, (await DequeueOneAsync("children")).Id);
        Assert.Contains(onSuccess.Id, (await Store.DequeueAsync(Request(10, queues: "callbacks"), Ct)).Select(static j => j.Id));
    }

    [Fact]
    public async Task Ack_OfAPlainJobOrAStaleLease_NamingABatch_CountsNothingInIt()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, _, _, _) = await CreateBatchAsync(2);
        var plain = await EnqueueAsync(NewJob(queue: "plain"));
        var leasedPlain = await DequeueOneAsync("plain");
        var members = await Store.DequeueAsync(Request(2, queues: "batch"), Ct);
        Assert.Equal(2, members.Count);

        Assert.Equal(1, await Store.AcknowledgeManyAsync(
        [
            Ack(leasedPlain, AckOutcome.Succeeded) with { BatchId = batch.Id },
            Ack(members[0], AckOutcome.Succeeded, leaseToken: members[0].LeaseToken + 1000),
            Ack(members[1], AckOutcome.Succeeded, leaseToken: members[1].LeaseToken + 1000),
        ], Ct));

        await AssertStateAsync(plain, JobState.Succeeded);
        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Running, 0, 2), (info!.State, info.Succeeded, info.Unfinished));
        foreach (var member in members)
        {
            await AssertStateAsync(member.Id, JobState.Active);
        }
    }
}
