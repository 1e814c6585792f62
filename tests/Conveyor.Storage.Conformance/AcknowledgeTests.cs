namespace Conveyor.Storage.Conformance;

/// <summary>Acknowledge: what each outcome does to a job, and that only the lease holder can do it.</summary>
public abstract partial class AcknowledgeTests : JobStoreTestBase
{
    private async Task<LeasedJob> LeaseAsync(NewJob? job = null)
    {
        await EnqueueAsync(job);
        Time.Advance(TimeSpan.FromSeconds(1));
        var leased = await DequeueOneAsync();
        Time.Advance(TimeSpan.FromSeconds(2));
        return leased;
    }

    [Fact]
    public async Task Ack_Succeeded_StoresResultProgressAndCompletedAt()
    {
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded, result: "{\"rows\":12}"u8.ToArray(), resultUrl: "https://files.example/r/1.csv")));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(100, job.Progress);
        Assert.NotNull(job.Result);
        Assert.Equal("{\"rows\":12}"u8.ToArray(), job.Result.Value.ToArray());
        Assert.Equal("https://files.example/r/1.csv", job.ResultUrl);
        Assert.Equal(Now, job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
        Assert.Equal(StartTime.AddSeconds(1), job.StartedAt);
        Assert.Equal(1, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task Ack_SucceededWithLargeBinaryResult_RoundTripsExactly()
    {
        var leased = await LeaseAsync();
        var result = Bytes(256 * 1024, seed: 7);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded, result: result)));

        Assert.Equal(result, (await GetAsync(leased.Id)).Result!.Value.ToArray());
    }

    [Fact]
    public async Task Ack_SucceededWithoutResult_LeavesResultUrlNull()
    {
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Null(job.ResultUrl);
        Assert.True(job.Result is null || job.Result.Value.IsEmpty);
    }

    [Fact]
    public async Task Ack_Partial_AppendsItemErrorsInOrderAndStoresResult()
    {
        var leased = await LeaseAsync();
        var itemErrors = new[]
        {
            new JobError(1, "row 3: bad email", null, "row-3", Now),
            new JobError(1, "row 9: duplicate", "Acme.DuplicateException", "row-9", Now.AddMilliseconds(5)),
        };

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Partial, itemErrors: itemErrors, result: "{}"u8.ToArray(), resultUrl: "https://r")));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Partial, job.State);
        Assert.Equal(100, job.Progress);
        Assert.Equal(itemErrors, job.Errors);
        Assert.Equal("https://r", job.ResultUrl);
        Assert.Equal(Now, job.CompletedAt);
    }

    [Fact]
    public async Task Ack_FailedWithItemErrors_StoresTheAttemptsErrorLast_AsTheLastError()
    {
        var leased = await LeaseAsync();
        var itemError = new JobError(1, "row 2: qty is not a number", null, "row-2", Now.AddMilliseconds(-5));
        var attemptError = new JobError(1, "no row is valid", "Acme.ImportException", null, Now);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, error: attemptError, itemErrors: [itemError])));

        // The items went wrong during the attempt, which then ended with its error: that one is the job's last, which
        // the error filter and the dashboard's "last error" read.
        Assert.Equal([itemError, attemptError], (await GetAsync(leased.Id)).Errors);
        var page = await Store.ListAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "no row is valid" }, Ct);
        Assert.Equal([leased.Id], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task Ack_Retry_IsRetryingUntilRetryAtWithErrorAppended()
    {
        var leased = await LeaseAsync();
        var retryAt = Now.AddSeconds(30);
        var error = new JobError(1, "timeout talking to SMTP", "System.TimeoutException", null, Now);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, error, retryAt: retryAt)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Retrying, job.State);
        Assert.Equal(retryAt, job.ScheduledAt);
        Assert.Equal([error], job.Errors);
        Assert.Equal(1, job.Attempts);
        Assert.Null(job.CompletedAt);
        Assert.Equal(Now, job.UpdatedAt);
    }

    [Fact]
    public async Task Ack_Retry_IsNotDequeuedBeforeRetryAtAndPromotion()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now.AddSeconds(30))));

        await AssertNothingToDequeueAsync();
        Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await Store.PromoteDueAsync(10, Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));

        var again = await DequeueOneAsync();
        Assert.Equal(leased.Id, again.Id);
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task Ack_Failed_IsFailedWithErrorAndCompletedAt()
    {
        var leased = await LeaseAsync();
        var error = new JobError(1, "payload is not valid", "Conveyor.SkipRetryException", null, Now);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, error)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal([error], job.Errors);
        Assert.Equal(Now, job.CompletedAt);
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public async Task Ack_Cancelled_IsCancelledWithCompletedAt()
    {
        var leased = await LeaseAsync();
        var error = new JobError(1, "cancelled by operator", "System.OperationCanceledException", null, Now);

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Cancelled, error)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal([error], job.Errors);
        Assert.Equal(Now, job.CompletedAt);
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task Ack_Released_IsPendingAtOnceWithAttemptNotCountedAndNoError()
    {
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(0, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Null(job.CompletedAt);
    }

    [Fact]
    public async Task Ack_ReleasedCarryingAnError_StillRecordsNoError()
    {
        // The contract: a release records no error, whatever the worker sends with it.
        var leased = await LeaseAsync();

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released, Error(1, "shutting down", "System.OperationCanceledException"))));

        Assert.Empty((await GetAsync(leased.Id)).Errors);
    }

    [Fact]
    public async Task Ack_Released_JobRunsAgainWithTheSameAttemptNumber()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        var again = await DequeueOneAsync();

        Assert.Equal(leased.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.NotEqual(leased.LeaseToken, again.LeaseToken);
        Assert.Equal(leased.EnqueuedAt, again.EnqueuedAt);
    }

    [Fact]
    public async Task Ack_ReleasedOnSecondAttempt_AttemptsGoBackToOne()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();
        Assert.Equal(2, second.Attempt);

        Assert.True(await AckAsync(Ack(second, AckOutcome.Released)));

        var job = await GetAsync(leased.Id);
        Assert.Equal(1, job.Attempts);
        Assert.Single(job.Errors);
    }

    [Fact]
    public async Task Ack_WrongToken_ChangesNothingAndIsNotCounted()
    {
        var leased = await LeaseAsync();

        var applied = await Store.AcknowledgeManyAsync([Ack(leased, AckOutcome.Succeeded, leaseToken: leased.LeaseToken + 1000)], Ct);

        Assert.Equal(0, applied);
        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Active, job.State);
        Assert.Equal(0, job.Progress);
        Assert.Null(job.CompletedAt);
    }

    [Fact]
    public async Task Ack_UnknownJob_IsNotCounted()
    {
        var leased = await LeaseAsync();

        var applied = await Store.AcknowledgeManyAsync([Ack(leased, AckOutcome.Succeeded) with { JobId = "no-such-job" }], Ct);

        Assert.Equal(0, applied);
    }

    [Fact]
    public async Task Ack_Twice_SecondIsIgnored()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded, result: "1"u8.ToArray())));
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await AckAsync(Ack(leased, AckOutcome.Failed, Error(1))));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Empty(job.Errors);
        Assert.Equal(Now.AddSeconds(-1), job.CompletedAt);
    }

    [Fact]
    public async Task Ack_StaleTokenAfterRetryAndRedequeue_IsIgnored()
    {
        var first = await LeaseAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, Error(1), retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();

        Assert.False(await AckAsync(Ack(first, AckOutcome.Succeeded)));

        var job = await GetAsync(first.Id);
        Assert.Equal(JobState.Active, job.State);
        Assert.True(await AckAsync(Ack(second, AckOutcome.Succeeded)));
    }

    [Fact]
    public async Task Ack_PendingJobWithAnyToken_IsIgnored()
    {
        var leased = await LeaseAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Released)));

        Assert.False(await AckAsync(Ack(leased, AckOutcome.Succeeded)));

        await AssertStateAsync(leased.Id, JobState.Pending);
    }

    [Fact]
    public async Task AckMany_EmptyList_ReturnsZero()
    {
        Assert.Equal(0, await Store.AcknowledgeManyAsync([], Ct));
    }
}
