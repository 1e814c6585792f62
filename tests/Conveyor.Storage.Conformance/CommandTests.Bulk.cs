namespace Conveyor.Storage.Conformance;

/// <summary>RunBulkAsync: the single-job commands applied to many jobs at once, each answered as alone.</summary>
public abstract partial class CommandTests
{
    private async Task<IReadOnlyList<JobCommandResult>> BulkAsync(JobBulkAction action, IReadOnlyList<string> ids, string? tenant = DefaultTenant) =>
        await Store.RunBulkAsync(action, tenant, ids, Ct);

    [Fact]
    public async Task Bulk_Requeue_RunsEveryAllowedJobAgainAndSkipsTheOthers()
    {
        var failed = await CreateJobInStateAsync(JobState.Failed);
        var cancelled = await CreateJobInStateAsync(JobState.Cancelled);
        var succeeded = await CreateJobInStateAsync(JobState.Succeeded);
        var active = await CreateJobInStateAsync(JobState.Active);
        const string missing = "job_00000000000000000000000000000000";

        var results = await BulkAsync(JobBulkAction.Requeue, [failed, succeeded, missing, cancelled, active]);

        Assert.Equal(
            [JobCommandResult.Done, JobCommandResult.NotAllowed, JobCommandResult.NotFound, JobCommandResult.Done, JobCommandResult.NotAllowed],
            results);
        await AssertStateAsync(failed, JobState.Pending);
        await AssertStateAsync(cancelled, JobState.Pending);
        await AssertStateAsync(succeeded, JobState.Succeeded);
        await AssertStateAsync(active, JobState.Active);
        var dequeued = await DequeueAsync(10);
        Assert.Equal([failed, cancelled], dequeued.Select(static j => j.Id));
    }

    [Fact]
    public async Task Bulk_Requeue_KeepsErrorsAndClearsTheFinishedFields()
    {
        var failed = await CreateJobInStateAsync(JobState.Failed);
        var before = await GetAsync(failed);

        await BulkAsync(JobBulkAction.Requeue, [failed]);

        var after = await GetAsync(failed);
        Assert.Equal(JobState.Pending, after.State);
        Assert.Null(after.CompletedAt);
        Assert.Equal(before.Errors.Count, after.Errors.Count);
        Assert.Equal(before.Attempts, after.Attempts);
    }

    [Fact]
    public async Task Bulk_Cancel_CancelsWaitingJobsRequestsActiveOnesAndSkipsFinished()
    {
        var active = await CreateJobInStateAsync(JobState.Active);
        var succeeded = await CreateJobInStateAsync(JobState.Succeeded);
        var pending = await CreateJobInStateAsync(JobState.Pending);
        var scheduled = await CreateJobInStateAsync(JobState.Scheduled);

        var results = await BulkAsync(JobBulkAction.Cancel, [pending, scheduled, active, succeeded]);

        Assert.Equal([JobCommandResult.Done, JobCommandResult.Done, JobCommandResult.Requested, JobCommandResult.NotAllowed], results);
        await AssertStateAsync(pending, JobState.Cancelled);
        await AssertStateAsync(scheduled, JobState.Cancelled);
        Assert.True((await GetAsync(active)).CancelRequested);
        await AssertStateAsync(succeeded, JobState.Succeeded);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Bulk_Delete_DeletesAllButActiveJobs()
    {
        var failed = await CreateJobInStateAsync(JobState.Failed);
        var active = await CreateJobInStateAsync(JobState.Active);
        var pending = await CreateJobInStateAsync(JobState.Pending);

        var results = await BulkAsync(JobBulkAction.Delete, [failed, active, pending]);

        Assert.Equal([JobCommandResult.Done, JobCommandResult.NotAllowed, JobCommandResult.Done], results);
        Assert.Null(await Store.GetAsync(DefaultTenant, failed, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, pending, Ct));
        await AssertStateAsync(active, JobState.Active);
        Assert.DoesNotContain((await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs, j => j.Id == failed || j.Id == pending);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Bulk_SameIdTwice_TheSecondSeesWhatTheFirstDid()
    {
        var failed = await CreateJobInStateAsync(JobState.Failed);
        var doomed = await CreateJobInStateAsync(JobState.Failed);

        Assert.Equal([JobCommandResult.Done, JobCommandResult.NotAllowed], await BulkAsync(JobBulkAction.Requeue, [failed, failed]));
        Assert.Equal([JobCommandResult.Done, JobCommandResult.NotFound], await BulkAsync(JobBulkAction.Delete, [doomed, doomed]));
    }

    [Fact]
    public async Task Bulk_AnotherTenantsJob_IsNotFoundAndUntouched_UnlessNoTenantIsGiven()
    {
        var theirs = await CreateJobInStateAsync(JobState.Failed, NewJob(tenant: "globex"));
        var mine = await CreateJobInStateAsync(JobState.Failed);

        var scoped = await BulkAsync(JobBulkAction.Requeue, [theirs, mine]);

        Assert.Equal([JobCommandResult.NotFound, JobCommandResult.Done], scoped);
        await AssertStateAsync(theirs, JobState.Failed, "globex");

        var operatorWide = await BulkAsync(JobBulkAction.Requeue, [theirs], tenant: null);

        Assert.Equal([JobCommandResult.Done], operatorWide);
        await AssertStateAsync(theirs, JobState.Pending, "globex");
    }

    [Fact]
    public async Task Bulk_JobsOfSeveralQueues_AllApply()
    {
        var a = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "a"));
        var b = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "b"));
        var c = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "a"));

        var results = await BulkAsync(JobBulkAction.Requeue, [a, b, c]);

        Assert.All(results, static r => Assert.Equal(JobCommandResult.Done, r));
        Assert.Equal([a, c], (await DequeueAsync(10, "a")).Select(static j => j.Id));
        Assert.Equal([b], (await DequeueAsync(10, "b")).Select(static j => j.Id));
    }

    [Fact]
    public async Task Bulk_ManyJobs_AllApplyAndTheQueueCountsFollow()
    {
        var ids = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            ids.Add(await EnqueueAsync(NewJob(processAt: Now.AddHours(1))));
        }

        var results = await BulkAsync(JobBulkAction.Cancel, ids);

        Assert.All(results, static r => Assert.Equal(JobCommandResult.Done, r));
        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct));
        Assert.Equal(0, stats.Scheduled);
        Assert.Equal(300, stats.Cancelled);
    }

    [Fact]
    public async Task Bulk_Empty_ReturnsNothing_AndMoreThanTheMaximumIsRefused()
    {
        Assert.Empty(await BulkAsync(JobBulkAction.Delete, []));
        var tooMany = Enumerable.Range(0, IJobQueryStore.MaxBulkJobs + 1).Select(static i => $"job-{i}").ToArray();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await BulkAsync(JobBulkAction.Delete, tooMany));
    }
}
