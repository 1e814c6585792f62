namespace Conveyor.Storage.Conformance;

/// <summary>
/// An acknowledgement that carries the attempt's idempotency key settles the record in the same store call: done on
/// success, released otherwise, by compare-and-set on the record's owner, whether or not the acknowledgement applies.
/// </summary>
public abstract partial class IdempotencyTests
{
    private async Task<LeasedJob> LeaseWithKeyAsync(string key = Key, string queue = DefaultQueue)
    {
        await EnqueueAsync(NewJob(queue: queue));
        var leased = await DequeueOneAsync(queue);
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(new LeaseRef(leased.Id, leased.LeaseToken), key));
        Time.Advance(TimeSpan.FromSeconds(1));
        return leased;
    }

    private static JobAcknowledgement WithKey(JobAcknowledgement ack, string key = Key) =>
        ack with { IdempotencyKey = key, IdempotencyKeepDoneFor = DoneTtl };

    [Theory]
    [InlineData(AckOutcome.Succeeded)]
    [InlineData(AckOutcome.Partial)]
    public async Task Ack_SuccessCarryingTheKey_RecordDoneByThatJob(AckOutcome outcome)
    {
        var leased = await LeaseWithKeyAsync();

        Assert.True(await AckAsync(WithKey(Ack(leased, outcome))));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(leased.Id, Now), await BeginAsync(Second));
        Time.Advance(DoneTtl - TimeSpan.FromSeconds(1));
        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second)).Outcome);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second));
    }

    [Theory]
    [InlineData(AckOutcome.Retry)]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Cancelled)]
    [InlineData(AckOutcome.Snoozed)]
    [InlineData(AckOutcome.Released)]
    public async Task Ack_OtherOutcomeCarryingTheKey_RecordReleased(AckOutcome outcome)
    {
        var leased = await LeaseWithKeyAsync();
        var ack = Ack(leased, outcome, error: outcome is AckOutcome.Retry or AckOutcome.Failed ? Error(1) : null, retryAt: Now + TimeSpan.FromMinutes(1));
        if (outcome == AckOutcome.Snoozed)
        {
            ack = ack with { SnoozeUntil = Now + TimeSpan.FromMinutes(1), SnoozeReason = "waits" };
        }

        Assert.True(await AckAsync(WithKey(ack)));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second));
    }

    [Fact]
    public async Task Ack_FromALostLease_NotAppliedButStillCompletesTheRecordItOwns()
    {
        // The handler finished its work after its lease was lost: the job is not this attempt's any more, but the
        // work happened, so a duplicate must not repeat it.
        var leased = await LeaseWithKeyAsync();
        var stale = leased.LeaseToken + 1000;
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(new LeaseRef(leased.Id, stale), "payment:order-43"));

        Assert.False(await AckAsync(WithKey(Ack(leased, AckOutcome.Succeeded, leaseToken: stale), "payment:order-43")));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(leased.Id, Now), await BeginAsync(Second, "payment:order-43"));
        Assert.Equal(JobState.Active, (await GetAsync(leased.Id)).State);
    }

    [Fact]
    public async Task Ack_CarryingAKeyAnotherAttemptHolds_LeavesTheRecordAlone()
    {
        var leased = await LeaseWithKeyAsync(key: "payment:order-44");
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First, expiresAt: Now + TimeSpan.FromMinutes(5)));

        Assert.True(await AckAsync(WithKey(Ack(leased, AckOutcome.Succeeded))));
        Assert.True(await AckAsync(WithKey(Ack(await LeaseWithKeyAsync(key: "payment:order-45"), AckOutcome.Failed, error: Error(1)))));

        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second)).Outcome);
        Assert.Equal(First.JobId, (await BeginAsync(Second)).JobId);
    }

    [Fact]
    public async Task AckMany_KeysOfJobsInSeveralQueues_AllSettledInOneCall()
    {
        var done = await LeaseWithKeyAsync("payment:a", "billing");
        var plain = await LeaseWithKeyAsync("payment:unused", "mail");
        var failed = await LeaseWithKeyAsync("payment:b", "mail");

        var applied = await Store.AcknowledgeManyAsync(
            [
                WithKey(Ack(done, AckOutcome.Succeeded), "payment:a"),
                Ack(plain, AckOutcome.Succeeded),
                WithKey(Ack(failed, AckOutcome.Retry, error: Error(1), retryAt: Now + TimeSpan.FromMinutes(1)), "payment:b"),
            ],
            Ct);

        Assert.Equal(3, applied);
        Assert.Equal(IdempotencyBeginResult.AlreadyDone(done.Id, Now), await BeginAsync(Second, "payment:a"));
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second, "payment:b"));
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second, "payment:unused")).Outcome);
        Assert.Equal(JobState.Succeeded, (await GetAsync(done.Id)).State);
        Assert.Equal(JobState.Retrying, (await GetAsync(failed.Id)).State);
    }
}
