namespace Conveyor.Storage.Conformance;

/// <summary>
/// Snooze: an active job handed back to wait until a time, its attempt not counted, the reason kept on the job
/// (a job type with no handler in this server, a full limit, a handler that asks to wait).
/// </summary>
public abstract partial class AcknowledgeTests
{
    private const string SnoozeReasonText = "No handler for job type 'test:run' in this server; waiting for a server that handles it.";

    private JobAcknowledgement Snooze(LeasedJob job, TimeSpan delay, string reason = SnoozeReasonText, long? leaseToken = null) =>
        Ack(job, AckOutcome.Snoozed, leaseToken: leaseToken) with { SnoozeUntil = Now + delay, SnoozeReason = reason };

    [Fact]
    public async Task Ack_Snoozed_IsScheduledUntilItsTimeWithAttemptNotCountedReasonKeptAndNoError()
    {
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(Now.AddSeconds(30), job.ScheduledAt);
        Assert.Equal(0, job.Attempts);
        Assert.Equal(SnoozeReasonText, job.SnoozeReason);
        Assert.Empty(job.Errors);
        Assert.Null(job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task Ack_SnoozedWithAReasonHoldingANul_IsStored()
    {
        // A handler's reason can hold any character; PostgreSQL's text refuses U+0000.
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30), reason: "waiting for \0 input")));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.StartsWith("waiting for ", job.SnoozeReason, StringComparison.Ordinal);
        Assert.EndsWith(" input", job.SnoozeReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ack_SnoozedCarryingAnError_RecordsNoError()
    {
        // A snooze is not a failure, whatever the worker sends with it.
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30)) with
        {
            Error = Error(1, "no handler", "Conveyor.UnknownJobTypeException"),
            ItemErrors = [Error(1, "item", null, "item-1")],
        }));

        Assert.Empty((await GetAsync(leased.Id)).Errors);
    }

    [Fact]
    public async Task Ack_Snoozed_IsPromotedWhenDueAndRunsAgainWithTheSameAttemptNumber()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));

        await AssertNothingToDequeueAsync();
        Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await Store.PromoteDueAsync(10, Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));

        var again = await DequeueOneAsync();
        Assert.Equal(leased.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.NotEqual(leased.LeaseToken, again.LeaseToken);
    }

    [Fact]
    public async Task Ack_SnoozedOnSecondAttempt_KeepsTheFirstAttemptsCountAndError()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();
        Assert.Equal(2, second.Attempt);

        Assert.True(await AckAsync(Snooze(second, TimeSpan.FromMinutes(1))));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Single(job.Errors);
    }

    [Fact]
    public async Task Ack_SnoozedUnderAStaleLeaseToken_DoesNotApply()
    {
        var leased = await LeaseAsync();

        Assert.False(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30), leaseToken: leased.LeaseToken + 1000)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Active, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Null(job.SnoozeReason);
    }

    [Fact]
    public async Task Ack_SnoozedAfterTheLeaseWasRecovered_DoesNotApply()
    {
        var leased = await LeaseAsync();
        Time.Advance(Lease);
        Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct));

        Assert.False(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));

        Assert.Equal(JobState.Pending, (await GetAsync(leased.Id)).State);
    }

    [Fact]
    public async Task Ack_SnoozeOfJobWithCancelRequest_IsCancelledNotScheduled()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.CompletedAt);
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await Store.PromoteDueAsync(10, Ct));
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Ack_Snoozed_ReasonIsClearedWhenTheNextAttemptEnds()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));
        Time.Advance(TimeSpan.FromSeconds(30));
        await Store.PromoteDueAsync(10, Ct);
        var again = await DequeueOneAsync();
        Assert.Equal(SnoozeReasonText, (await GetAsync(leased.Id)).SnoozeReason);

        Assert.True(await AckAsync(Ack(again, AckOutcome.Succeeded)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Null(job.SnoozeReason);
    }

    [Fact]
    public async Task Ack_Snoozed_KeepsTheJobsUniqueKey()
    {
        var leased = await LeaseAsync(NewJob(uniqueKey: "report-42", uniqueUntil: StartTime.AddHours(1)));
        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromMinutes(5))));

        var duplicate = await Store.EnqueueAsync(NewJob(uniqueKey: "report-42", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, duplicate.Outcome);
    }

    [Fact]
    public async Task Ack_SnoozedInABatchWithOtherOutcomes_EachAppliesItsOwn()
    {
        var ids = await EnqueueManyAsync(3);
        var leased = (await DequeueAsync(3)).ToDictionary(j => j.Id);

        var applied = await Store.AcknowledgeManyAsync(
        [
            Ack(leased[ids[0]], AckOutcome.Succeeded),
            Snooze(leased[ids[1]], TimeSpan.FromMinutes(2), "waiting for a rate limit"),
            Ack(leased[ids[2]], AckOutcome.Released),
        ], Ct);

        Assert.Equal(3, applied);
        Assert.Equal(JobState.Succeeded, (await GetAsync(ids[0])).State);
        var snoozed = await GetAsync(ids[1]);
        Assert.Equal(JobState.Scheduled, snoozed.State);
        Assert.Equal(Now.AddMinutes(2), snoozed.ScheduledAt);
        Assert.Equal("waiting for a rate limit", snoozed.SnoozeReason);
        Assert.Null((await GetAsync(ids[0])).SnoozeReason);
        Assert.Equal(JobState.Pending, (await GetAsync(ids[2])).State);
    }

    [Fact]
    public async Task Ack_Snoozed_CountsAsScheduledInQueueStatistics()
    {
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Snooze(leased, TimeSpan.FromSeconds(30))));

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct), s => s.Queue == DefaultQueue);
        Assert.Equal(1, stats.Scheduled);
        Assert.Equal(0, stats.Active);
    }
}
