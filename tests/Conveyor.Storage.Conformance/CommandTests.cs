namespace Conveyor.Storage.Conformance;

/// <summary>Operator commands: cancel, requeue and delete, by the job's state.</summary>
public abstract partial class CommandTests : JobStoreTestBase
{
    [Theory]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Retrying)]
    public async Task Cancel_NotYetRunning_IsDoneAndCancelled(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, id, Ct));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(Now, job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
        Assert.False(job.CancelRequested);
    }

    [Theory]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Retrying)]
    public async Task Cancel_NotYetRunning_IsNeverDequeuedAfterwards(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, id, Ct));
        Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));
        await AssertNothingToDequeueAsync();
        await AssertStateAsync(id, JobState.Cancelled);
    }

    [Fact]
    public async Task Cancel_Active_IsRequestedAndVisibleInGet()
    {
        var id = await CreateJobInStateAsync(JobState.Active);

        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Active, job.State);
        Assert.True(job.CancelRequested);
        Assert.Null(job.CompletedAt);
    }

    [Fact]
    public async Task Cancel_ActiveTwice_IsRequestedBothTimes()
    {
        var id = await CreateJobInStateAsync(JobState.Active);

        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True((await GetAsync(id)).CancelRequested);
    }

    [Fact]
    public async Task Cancel_Active_ReportedToTheWorkerByExtendLeases()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        await Store.CancelAsync(DefaultTenant, id, Ct);

        var extension = await Store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = ServerId, Leases = [new LeaseRef(id, leased.LeaseToken)], LeaseDuration = Lease },
            Ct);

        Assert.Equal([id], extension.CancelRequested);
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Cancel_Finished_IsNotAllowedAndChangesNothing(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        var before = await GetAsync(id);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(JobCommandResult.NotAllowed, await Store.CancelAsync(DefaultTenant, id, Ct));

        var after = await GetAsync(id);
        Assert.Equal(state, after.State);
        Assert.Equal(before.CompletedAt, after.CompletedAt);
        Assert.False(after.CancelRequested);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Retrying)]
    public async Task Requeue_Allowed_IsDonePendingWithAttemptsResetAndErrorsKept(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        var before = await GetAsync(id);
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(0, job.Attempts);
        Assert.Equal(before.Errors, job.Errors);
        Assert.Null(job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Retrying)]
    public async Task Requeue_Allowed_RunsNowAsFirstAttempt(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        var leased = await DequeueOneAsync();

        Assert.Equal(id, leased.Id);
        Assert.Equal(1, leased.Attempt);
        Assert.Equal(Now, leased.EnqueuedAt);
    }

    [Fact]
    public async Task Requeue_FailedJob_KeepsErrorsOfEarlierAttempts()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        var leased = await DequeueOneAsync();
        var error = Error(1, "disk full");
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, error)));

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        Assert.Equal([error], (await GetAsync(id)).Errors);
    }

    [Fact]
    public async Task Requeue_FailedJob_IsNotPurgedWhenItsOldRetentionPasses()
    {
        var id = await EnqueueAsync(NewJob(retention: TimeSpan.FromMinutes(1)));
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, Error(1))));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));

        await AssertStateAsync(id, JobState.Pending);
    }

    [Theory]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Active)]
    [InlineData(JobState.Succeeded)]
    [InlineData(JobState.Partial)]
    public async Task Requeue_NotAllowed_ChangesNothing(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        var before = await GetAsync(id);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(JobCommandResult.NotAllowed, await Store.RequeueAsync(DefaultTenant, id, Ct));

        var after = await GetAsync(id);
        Assert.Equal(state, after.State);
        Assert.Equal(before.Attempts, after.Attempts);
        Assert.Equal(before.UpdatedAt, after.UpdatedAt);
    }

    [Theory]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Retrying)]
    [InlineData(JobState.Succeeded)]
    [InlineData(JobState.Partial)]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    public async Task Delete_NotActive_IsDoneAndGone(JobState state)
    {
        var id = await CreateJobInStateAsync(state);

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
        Assert.Empty((await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs);
    }

    [Theory]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Retrying)]
    public async Task Delete_Waiting_IsNeverDequeuedOrPromotedAfterwards(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));
        Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Delete_PendingJob_IsNoLongerCountedInQueueStats()
    {
        var keep = await EnqueueAsync();
        var delete = await EnqueueAsync();

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, delete, Ct));

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct));
        Assert.Equal(1, stats.Pending);
        Assert.Equal(keep, (await DequeueOneAsync()).Id);
    }

    [Fact]
    public async Task Delete_Active_IsNotAllowedAndKeepsTheLease()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();

        Assert.Equal(JobCommandResult.NotAllowed, await Store.DeleteAsync(DefaultTenant, id, Ct));

        await AssertStateAsync(id, JobState.Active);
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
    }

    [Fact]
    public async Task Delete_Twice_SecondIsNotFound()
    {
        var id = await EnqueueAsync();

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));
        Assert.Equal(JobCommandResult.NotFound, await Store.DeleteAsync(DefaultTenant, id, Ct));
    }

    [Fact]
    public async Task Delete_AfterCancelOfActiveAndAck_IsDone()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Cancelled)));

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
    }
}
