namespace Conveyor.Storage.Conformance;

/// <summary>
/// A job deleted before it finished ends what waited for it, and its batch, at the time of the delete: the finish
/// times read back are then, and retention counts from then (not from the deleted job's last change, which could be
/// days before).
/// </summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Delete_OfAnUnfinishedJob_EndsItsBatchAndItsDependants_AtTheTimeOfTheDelete()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromMinutes(30) };
        var member = NewJob(queue: "parked") with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [member], Ct)).AllStored);
        var dependant = await EnqueueAsync(After(NewJob(queue: "children"), member.Id));
        Time.Advance(TimeSpan.FromHours(2));
        var deletedAt = Now;

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, member.Id, Ct));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.NotNull(info);
        Assert.Equal(BatchState.Completed, info.State);
        Assert.Equal(deletedAt, info.FinishedAt);
        Assert.Equal(deletedAt, info.UpdatedAt);
        var cancelled = await GetAsync(dependant);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(deletedAt, cancelled.CompletedAt);
        Assert.Equal(deletedAt, cancelled.UpdatedAt);
        Assert.Equal(deletedAt, Assert.Single(cancelled.Errors).OccurredAt);
    }

    [Fact]
    public async Task BulkDelete_OfUnfinishedJobs_AmongOthers_EndsTheirBatch_AtTheTimeOfTheDelete()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromMinutes(30) };
        var first = NewJob(queue: "parked") with { BatchId = batch.Id };
        var second = NewJob(queue: "parked") with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [first, second], Ct)).AllStored);
        Time.Advance(TimeSpan.FromHours(2));
        var deletedAt = Now;

        var plain = await EnqueueAsync(NewJob(queue: "parked"));

        Assert.All(await Store.RunBulkAsync(JobBulkAction.Delete, DefaultTenant, [plain, first.Id, second.Id], Ct), r => Assert.Equal(JobCommandResult.Done, r));

        var info = await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct);
        Assert.NotNull(info);
        Assert.Equal((BatchState.Completed, 2), (info.State, info.Cancelled));
        Assert.Equal(deletedAt, info.FinishedAt);
    }
}
