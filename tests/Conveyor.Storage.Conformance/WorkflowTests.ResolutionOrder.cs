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
}
