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
    public async Task Requeue_Allowed_IsDonePendingWithAttemptsAndErrorsKept(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        var before = await GetAsync(id);
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        // Attempts keep counting across a manual retry, so that each attempt's error has its own number.
        var job = await GetAsync(id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(before.Attempts, job.Attempts);
        Assert.Equal(before.Errors, job.Errors);
        Assert.Null(job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Retrying)]
    public async Task Requeue_Allowed_ClearsTheEarlierAttemptsTimesAndIsDueNow(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        // Nothing of an earlier attempt may look current, and a job that was scheduled for later is due now.
        var job = await GetAsync(id);
        Assert.Null(job.StartedAt);
        Assert.Null(job.CompletedAt);
        Assert.Equal(Now, job.ScheduledAt);
    }

    [Fact]
    public async Task Requeue_FailedJobWithProgress_StartsAgainFromZero()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        var leased = await DequeueOneAsync();
        Assert.True(await Store.ReportProgressAsync(id, leased.LeaseToken, 60, Ct));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, Error(1))));
        Assert.Equal(60, (await GetAsync(id)).Progress);

        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        Assert.Equal(0, (await GetAsync(id)).Progress);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Retrying)]
    public async Task Requeue_Allowed_RunsNowAsTheNextAttempt(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        var before = await GetAsync(id);
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        var leased = await DequeueOneAsync();

        Assert.Equal(id, leased.Id);
        Assert.Equal(before.Attempts + 1, leased.Attempt);
        Assert.Equal(Now, leased.EnqueuedAt);
    }

    [Fact]
    public async Task Requeue_FailedJob_NextAttemptsErrorHasTheNextNumber()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Failed, Error(first.Attempt, "disk full"))));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));

        var second = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(second, AckOutcome.Failed, Error(second.Attempt, "disk still full"))));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal([1, 2], job.Errors.Select(static e => e.Attempt));
        Assert.Equal(2, job.Attempts);
    }

    [Fact]
    public async Task Requeue_JobOutOfRetries_GetsOneMoreAttemptThatFailsForGoodWhenItsLeaseExpires()
    {
        // A manual retry of a job whose retries were spent runs it once more (as Sidekiq and Oban do): if that
        // attempt is lost too, the job fails again rather than starting a new round of retries.
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Failed, Error(first.Attempt))));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, id, Ct));
        var second = await DequeueOneAsync();
        Assert.Equal(2, second.Attempt);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(JobState.Failed, Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct)).NewState);

        Assert.Equal([1, 2], (await GetAsync(id)).Errors.Select(static e => e.Attempt));
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
