namespace Conveyor.Storage.Conformance;

/// <summary>
/// A batch cancelled as a whole: every member it cancels says so in its errors, once, as a job cancelled by a dependency
/// that did not succeed says that. A member that was running is only asked to stop (its own end says the rest).
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_CancelledAsAWhole_EachUnstartedMemberSaysItsBatchWasCancelled()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var outside = await EnqueueAsync(NewJob(queue: "outside"));
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var pending = NewJob(queue: "batch") with { BatchId = batch.Id };
        var scheduled = NewJob(queue: "batch", processAt: Now.AddHours(1)) with { BatchId = batch.Id };
        var waiting = After(NewJob(queue: "batch"), outside) with { BatchId = batch.Id };
        var retrying = NewJob(queue: "retried") with { BatchId = batch.Id };
        var running = NewJob(queue: "running") with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [pending, scheduled, waiting, retrying, running], Ct)).AllStored);
        var leased = await DequeueOneAsync("retried");
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(leased.Attempt), retryAt: Now.AddMinutes(5))));
        await AssertStateAsync(retrying.Id, JobState.Retrying);
        var active = await DequeueOneAsync("running");

        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));

        var line = WorkflowMessages.BatchCancelled(batch.Id);
        foreach (var member in new[] { pending, scheduled, waiting })
        {
            var info = await GetAsync(member.Id);
            Assert.Equal(JobState.Cancelled, info.State);
            Assert.Equal(line, Assert.Single(info.Errors).Message);
        }

        var retried = await GetAsync(retrying.Id);
        Assert.Equal(JobState.Cancelled, retried.State);
        Assert.Equal(2, retried.Errors.Count);
        Assert.Equal((line, 1), (retried.Errors[^1].Message, retried.Errors[^1].Attempt));
        var asked = await GetAsync(active.Id);
        Assert.True(asked.CancelRequested);
        Assert.DoesNotContain(asked.Errors, e => e.Message == line);
        await AssertStateAsync(outside, JobState.Pending);
    }

    [Fact]
    public async Task Workflow_CancelledAsAWhole_EachStepEndsWithOneLineSayingWhy()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // first ← second ← third: the first is cancelled by the cancel; the others by it or by their dependency's end,
        // whichever the store reaches first, and either way with exactly one line.
        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
        var first = NewJob(queue: "steps") with { BatchId = batch.Id };
        var second = After(NewJob(queue: "steps"), first.Id) with { BatchId = batch.Id };
        var third = After(NewJob(queue: "steps"), second.Id) with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [first, second, third], Ct)).AllStored);

        Assert.True(await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct));

        var line = WorkflowMessages.BatchCancelled(batch.Id);
        Assert.Equal(line, Assert.Single((await GetAsync(first.Id)).Errors).Message);
        foreach (var (step, dependency) in new[] { (second, first), (third, second) })
        {
            var info = await GetAsync(step.Id);
            Assert.Equal(JobState.Cancelled, info.State);
            Assert.Contains(Assert.Single(info.Errors).Message, new[] { line, WorkflowMessages.DependencyDidNotSucceed(dependency.Id) });
        }

        var cancelled = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.Equal((BatchState.Cancelled, 3, 0), (cancelled!.State, cancelled.Cancelled, cancelled.Unfinished));
    }
}
