namespace Conveyor.Storage.Conformance;

/// <summary>
/// What release and snooze share: a job handed back does not count the attempt it hands back, nor that attempt's
/// start, whether it waits again or ends cancelled because a cancel was requested.
/// </summary>
public abstract partial class AcknowledgeTests
{
    private JobAcknowledgement HandBack(LeasedJob job, AckOutcome how) =>
        how is AckOutcome.Snoozed ? Snooze(job, TimeSpan.FromMinutes(1)) : Ack(job, how);

    /// <summary>A job leased for its second attempt (the first failed), and the time that lease began.</summary>
    private async Task<(LeasedJob Second, DateTimeOffset Start)> LeaseTheSecondAttemptAsync()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now)));
        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();
        return (second, Now);
    }

    [Theory]
    [InlineData(AckOutcome.Released)]
    [InlineData(AckOutcome.Snoozed)]
    public async Task Ack_HandedBackOnItsFirstAttempt_HasNoStartedAt(AckOutcome how)
    {
        // The attempt does not count, so the job never started: a start time would read as a run that never was.
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(HandBack(leased, how)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(0, job.Attempts);
        Assert.Null(job.StartedAt);
    }

    [Theory]
    [InlineData(AckOutcome.Released)]
    [InlineData(AckOutcome.Snoozed)]
    public async Task Ack_HandedBackAfterAnAttemptRan_KeepsTheStartOfTheLeaseItHandsBack(AckOutcome how)
    {
        // No store keeps the earlier attempt's start once the next lease overwrote it (JobInfo.StartedAt).
        var (second, secondStart) = await LeaseTheSecondAttemptAsync();
        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(await AckAsync(HandBack(second, how)));

        var job = await GetAsync(second.Id);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(secondStart, job.StartedAt);
    }

    [Theory]
    [InlineData(AckOutcome.Released)]
    [InlineData(AckOutcome.Snoozed)]
    public async Task Ack_HandBackOfJobWithCancelRequestOnItsFirstAttempt_IsCancelledWithNoAttemptCounted(AckOutcome how)
    {
        // Cancelled or not, a hand-back's attempt does not count: the job never started.
        var leased = await LeaseAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, leased.Id, Ct));

        Assert.True(await AckAsync(HandBack(leased, how)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(0, job.Attempts);
        Assert.Null(job.StartedAt);
    }

    [Theory]
    [InlineData(AckOutcome.Released)]
    [InlineData(AckOutcome.Snoozed)]
    public async Task Ack_HandBackOfJobWithCancelRequestAfterAnAttemptRan_IsCancelledCountingOnlyThatAttempt(AckOutcome how)
    {
        var (second, secondStart) = await LeaseTheSecondAttemptAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, second.Id, Ct));

        Assert.True(await AckAsync(HandBack(second, how)));

        var job = await GetAsync(second.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(secondStart, job.StartedAt);
    }
}
