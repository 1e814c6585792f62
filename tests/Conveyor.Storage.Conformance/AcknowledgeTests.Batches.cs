namespace Conveyor.Storage.Conformance;

/// <summary>Acknowledge: batches, the error history across attempts, and jobs with a cancellation request.</summary>
public abstract partial class AcknowledgeTests
{
    [Fact]
    public async Task AckMany_MixedOutcomes_EachAppliedAndCounted()
    {
        var ids = await EnqueueManyAsync(6);
        var leased = (await DequeueAsync(6)).ToDictionary(static j => j.Id);
        Assert.Equal(6, leased.Count);

        var applied = await Store.AcknowledgeManyAsync(
            [
                Ack(leased[ids[0]], AckOutcome.Succeeded, result: "a"u8.ToArray()),
                Ack(leased[ids[1]], AckOutcome.Partial, itemErrors: [Error(1, "item", null, "i-1")]),
                Ack(leased[ids[2]], AckOutcome.Retry, Error(1), retryAt: Now.AddMinutes(1)),
                Ack(leased[ids[3]], AckOutcome.Failed, Error(1)),
                Ack(leased[ids[4]], AckOutcome.Cancelled),
                Ack(leased[ids[5]], AckOutcome.Released),
            ],
            Ct);

        Assert.Equal(6, applied);
        await AssertStateAsync(ids[0], JobState.Succeeded);
        await AssertStateAsync(ids[1], JobState.Partial);
        await AssertStateAsync(ids[2], JobState.Retrying);
        await AssertStateAsync(ids[3], JobState.Failed);
        await AssertStateAsync(ids[4], JobState.Cancelled);
        await AssertStateAsync(ids[5], JobState.Pending);
    }

    [Fact]
    public async Task AckMany_SomeStale_CountsOnlyThoseApplied()
    {
        await EnqueueManyAsync(3);
        var leased = await DequeueAsync(3);

        var applied = await Store.AcknowledgeManyAsync(
            [
                Ack(leased[0], AckOutcome.Succeeded),
                Ack(leased[1], AckOutcome.Succeeded, leaseToken: -1),
                Ack(leased[2], AckOutcome.Failed, Error(1)),
            ],
            Ct);

        Assert.Equal(2, applied);
        await AssertStateAsync(leased[0].Id, JobState.Succeeded);
        await AssertStateAsync(leased[1].Id, JobState.Active);
        await AssertStateAsync(leased[2].Id, JobState.Failed);
    }

    [Fact]
    public async Task AckMany_SameJobTwiceInOneBatch_OnlyTheFirstApplies()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();

        var applied = await Store.AcknowledgeManyAsync([Ack(leased, AckOutcome.Succeeded), Ack(leased, AckOutcome.Failed, Error(1))], Ct);

        Assert.Equal(1, applied);
        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Empty(job.Errors);
    }

    [Fact]
    public async Task Ack_ErrorsAcrossAttempts_KeepTheirOrderAndEveryField()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 2));
        var expected = new List<JobError>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var leased = await DequeueOneAsync();
            Assert.Equal(attempt, leased.Attempt);
            Time.Advance(TimeSpan.FromMilliseconds(1500));
            var error = new JobError(attempt, $"attempt {attempt} failed: «quote» \"and\" newline\nline 2", $"Acme.Error{attempt}", attempt == 2 ? "item-2" : null, Now);
            expected.Add(error);
            var ack = attempt < 3
                ? Ack(leased, AckOutcome.Retry, error, retryAt: Now)
                : Ack(leased, AckOutcome.Failed, error);
            Assert.True(await AckAsync(ack));
            await Store.PromoteDueAsync(10, Ct);
        }

        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(3, job.Attempts);
        Assert.Equal(expected, job.Errors);
    }

    [Fact]
    public async Task Ack_PartialAfterARetry_AppendsItemErrorsAfterEarlierErrors()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        var attemptError = Error(1, "first attempt failed");
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, attemptError, retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();
        var itemError = Error(2, "row 5 skipped", null, "row-5");

        Assert.True(await AckAsync(Ack(second, AckOutcome.Partial, itemErrors: [itemError])));

        Assert.Equal([attemptError, itemError], (await GetAsync(id)).Errors);
    }

    [Fact]
    public async Task Ack_RetryWithItemErrors_AppendsAttemptErrorAndItemErrors()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        var error = Error(1, "gave up on the batch");
        var item = Error(1, "row 1", null, "row-1");

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, error, retryAt: Now.AddSeconds(5), itemErrors: [item])));

        var errors = (await GetAsync(leased.Id)).Errors;
        Assert.Equal(2, errors.Count);
        Assert.Contains(error, errors);
        Assert.Contains(item, errors);
    }

    [Fact]
    public async Task Ack_CancelledAfterCancelRequest_IsCancelledAndRequestCleared()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Cancelled)));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task Ack_RetryOfJobWithCancelRequest_IsCancelledNotRetried()
    {
        // Not spelled out by the contract: an operator who cancelled a running job expects it never to run
        // again, even when its handler reports an ordinary failure instead of honouring the cancellation.
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now)));

        await AssertStateAsync(id, JobState.Cancelled);
        Assert.Equal(0, await Store.PromoteDueAsync(10, Ct));
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Ack_ReleaseOfJobWithCancelRequest_IsCancelledNotPending()
    {
        // Not spelled out by the contract: a shutdown that hands back a job whose cancellation was requested
        // must not put it back in the queue, or the cancellation would be lost.
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.CompletedAt);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Ack_SucceededAfterCancelRequest_IsSucceeded()
    {
        // The handler finished before it saw the request: the work is done, and the result is what happened.
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task Ack_ConcurrentAcksOfOneLease_ExactlyOneApplies()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        var outcomes = new[] { AckOutcome.Succeeded, AckOutcome.Failed, AckOutcome.Retry, AckOutcome.Released, AckOutcome.Cancelled, AckOutcome.Succeeded };

        var applied = await Task.WhenAll(outcomes.Select(outcome => Task.Run(async () =>
            await Store.AcknowledgeManyAsync([Ack(leased, outcome, Error(1), retryAt: Now.AddMinutes(1))], Ct))));

        Assert.Equal(1, applied.Sum());
        var job = await GetAsync(leased.Id);
        Assert.NotEqual(JobState.Active, job.State);
        Assert.True(job.Errors.Count <= 1);
    }
}
