namespace Conveyor.Storage.Conformance;

/// <summary>Purge: finished jobs past their retention, expired idempotency records and locks.</summary>
public abstract class PurgeTests : JobStoreTestBase
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    [Fact]
    public async Task Purge_NothingFinished_DeletesNothing()
    {
        await EnqueueAsync();

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Purge_FinishedPastRetention_IsDeleted(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(retention: Retention));
        Time.Advance(Retention + TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
        Assert.Empty((await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs);
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Purge_FinishedWithinRetention_IsKept(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(retention: Retention));
        Time.Advance(Retention - TimeSpan.FromMilliseconds(1));

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));

        await AssertStateAsync(id, state);
    }

    [Fact]
    public async Task Purge_RetentionCountsFromCompletedAtNotCreatedAt()
    {
        var id = await EnqueueAsync(NewJob(retention: Retention));
        Time.Advance(TimeSpan.FromHours(5));
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));
        await AssertStateAsync(id, JobState.Succeeded);

        Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));
    }

    [Theory]
    [MemberData(nameof(UnfinishedStates))]
    public async Task Purge_UnfinishedJob_IsNeverDeleted(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(retention: TimeSpan.FromSeconds(1)));
        Time.Advance(TimeSpan.FromDays(30));

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));

        await AssertStateAsync(id, state);
    }

    [Fact]
    public async Task Purge_EachJobsOwnRetention_IsUsed()
    {
        var shortLived = await CreateJobInStateAsync(JobState.Succeeded, NewJob(queue: "a", retention: TimeSpan.FromMinutes(1)));
        var longLived = await CreateJobInStateAsync(JobState.Succeeded, NewJob(queue: "b", retention: TimeSpan.FromDays(7)));
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, shortLived, Ct));
        await AssertStateAsync(longLived, JobState.Succeeded);
    }

    [Fact]
    public async Task Purge_MoreExpiredThanLimit_DeletesOnlyLimit()
    {
        for (var i = 0; i < 5; i++)
        {
            await CreateJobInStateAsync(JobState.Succeeded, NewJob(retention: TimeSpan.FromMinutes(1)));
        }

        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(2, await Store.PurgeExpiredAsync(2, Ct));
        Assert.Equal(3, (await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs.Count);
        Assert.Equal(3, await Store.PurgeExpiredAsync(10, Ct));
        Assert.Equal(0, await Store.PurgeExpiredAsync(10, Ct));
    }

    [Fact]
    public async Task Purge_JobsOfEveryTenant_AreDeleted()
    {
        await CreateJobInStateAsync(JobState.Failed, NewJob(tenant: "acme", retention: TimeSpan.FromMinutes(1)));
        await CreateJobInStateAsync(JobState.Failed, NewJob(tenant: "globex", retention: TimeSpan.FromMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(2, await Store.PurgeExpiredAsync(100, Ct));
    }

    [Fact]
    public async Task Purge_DeletedJobsId_CanBeUsedAgain()
    {
        await CreateJobInStateAsync(JobState.Succeeded, NewJob(id: "nightly-2026-01-01", retention: TimeSpan.FromMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(2));
        await Store.PurgeExpiredAsync(100, Ct);

        var result = await Store.EnqueueAsync(NewJob(id: "nightly-2026-01-01"), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Purge_ExpiredIdempotencyRecordsAndLocks_AreGoneAndLiveOnesKept()
    {
        // A processing record whose worker died (never extended), a done record kept for an hour.
        Assert.Equal(IdempotencyBeginOutcome.Started, (await Store.TryBeginIdempotencyKeyAsync("old", new LeaseRef("job_old", 1), Now + TimeSpan.FromMinutes(1), Ct)).Outcome);
        Assert.True(await Store.CompleteIdempotencyKeyAsync("live", new LeaseRef("job_live", 1), TimeSpan.FromHours(1), Ct));
        Assert.True(await Store.TryAcquireLockAsync("old-lock", "server-a", TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.TryAcquireLockAsync("live-lock", "server-a", TimeSpan.FromHours(1), Ct));
        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));

        // The purged record is gone, not merely expired: its old owner's release (which ignores expiry) finds nothing.
        Assert.False(await Store.ReleaseIdempotencyKeyAsync("old", new LeaseRef("job_old", 1), Ct));
        Assert.Equal(IdempotencyBeginOutcome.Started, (await Store.TryBeginIdempotencyKeyAsync("old", new LeaseRef("job_new", 2), Now + Lease, Ct)).Outcome);
        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await Store.TryBeginIdempotencyKeyAsync("live", new LeaseRef("job_new", 2), Now + Lease, Ct)).Outcome);
        Assert.True(await Store.TryAcquireLockAsync("old-lock", "server-b", TimeSpan.FromMinutes(1), Ct));
        Assert.False(await Store.TryAcquireLockAsync("live-lock", "server-b", TimeSpan.FromMinutes(1), Ct));
        Assert.False(await Store.ReleaseLockAsync("old-lock", "server-a", Ct));
    }

    [Fact]
    public async Task Purge_ZeroRetention_DeletedOnceTheClockMoves()
    {
        var id = await CreateJobInStateAsync(JobState.Succeeded, NewJob(retention: TimeSpan.Zero));
        Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));

        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
    }

    [Fact]
    public async Task Purge_EmptyStore_ReturnsZero()
    {
        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));
    }

    private static NewJob ByOutcome(int maxRetry = 3) => NewJob(
        maxRetry: maxRetry, retention: TimeSpan.FromMinutes(1), failedRetention: TimeSpan.FromHours(1), cancelledRetention: TimeSpan.FromDays(1));

    private static TimeSpan OwnRetention(JobState state) => state switch
    {
        JobState.Succeeded => TimeSpan.FromMinutes(1),
        JobState.Failed or JobState.Partial => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    private async Task AssertKeptForAsync(string id, JobState state, TimeSpan? retention = null)
    {
        Time.Advance((retention ?? OwnRetention(state)) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await Store.PurgeExpiredAsync(100, Ct));
        await AssertStateAsync(id, state);

        Time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.Equal(1, await Store.PurgeExpiredAsync(100, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Purge_RetentionOfTheOutcome_IsUsed(JobState state)
    {
        var id = await CreateJobInStateAsync(state, ByOutcome());

        await AssertKeptForAsync(id, state);
    }

    [Fact]
    public async Task Purge_CancelledBeforeItRan_KeptForTheCancelledRetention()
    {
        var id = await EnqueueAsync(ByOutcome());
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, id, Ct));

        await AssertKeptForAsync(id, JobState.Cancelled);
    }

    [Fact]
    public async Task Purge_FailedByLeaseRecovery_KeptForTheFailedRetention()
    {
        var id = await EnqueueAsync(ByOutcome(maxRetry: 0));
        await DequeueOneAsync(lease: TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        await AssertKeptForAsync(id, JobState.Failed);
    }

    [Fact]
    public async Task Purge_WithoutOutcomeRetentions_EveryOutcomeUsesTheJobsRetention()
    {
        var id = await CreateJobInStateAsync(JobState.Failed, NewJob(retention: TimeSpan.FromMinutes(1)));

        await AssertKeptForAsync(id, JobState.Failed, TimeSpan.FromMinutes(1));
    }
}
