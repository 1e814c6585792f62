namespace Conveyor.Storage.Conformance;

/// <summary>Recovery of expired leases: the worker died or lost the store.</summary>
public abstract partial class LeaseTests
{
    [Fact]
    public async Task Recover_NoActiveJobs_ReturnsEmpty()
    {
        await EnqueueAsync();

        Assert.Empty(await Store.RecoverExpiredLeasesAsync(100, Ct));
    }

    [Fact]
    public async Task Recover_LeaseNotYetExpired_TakesNothing()
    {
        var id = await EnqueueAsync();
        await DequeueOneAsync();
        Time.Advance(Lease - TimeSpan.FromMilliseconds(1));

        Assert.Empty(await Store.RecoverExpiredLeasesAsync(100, Ct));
        await AssertStateAsync(id, JobState.Active);
    }

    [Fact]
    public async Task Recover_OnlyExpiredLeases_AreTaken()
    {
        await EnqueueAsync(NewJob(queue: "short"));
        await EnqueueAsync(NewJob(queue: "long"));
        var shortLease = await DequeueOneAsync("short", TimeSpan.FromSeconds(10));
        var longLease = await DequeueOneAsync("long", TimeSpan.FromSeconds(60));
        Time.Advance(TimeSpan.FromSeconds(11));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(shortLease.Id, recovered.JobId);
        await AssertStateAsync(longLease.Id, JobState.Active);
    }

    [Fact]
    public async Task Recover_WithRetriesLeft_IsPendingWithAttemptCountedAndLeaseError()
    {
        var id = await EnqueueAsync(NewJob(type: "mail:send", queue: "mail", tenant: "acme", maxRetry: 3));
        await DequeueOneAsync("mail");
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(new RecoveredJob(id, "mail:send", "mail", "acme", JobState.Pending), recovered);
        var job = await GetAsync(id, "acme");
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Null(job.CompletedAt);
        var error = Assert.Single(job.Errors);
        Assert.Equal(1, error.Attempt);
        // One text on every store, so that filtering on it (GET /jobs?error=) or alerting on it finds them all.
        Assert.Equal(LeaseMessages.Expired, error.Message);
        Assert.Equal(Now, error.OccurredAt);
    }

    [Fact]
    public async Task Recover_Recovered_IsDequeuedAgainFirstWithNextAttemptNewToken_WaitingFromTheRecovery()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Time.Advance(TimeSpan.FromSeconds(5));
        var backlog = await EnqueueManyAsync(3);
        Time.Advance(Lease);
        var recoveredAt = Now;
        Assert.Equal(JobState.Pending, Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct)).NewState);
        Time.Advance(TimeSpan.FromSeconds(1));

        // The job takes back its place in the queue, but its wait starts at the recovery: the time its dead attempt held
        // the lease is no queue wait (job_queue_wait_seconds, the queue's latency).
        Assert.Equal(recoveredAt, Assert.Single(await Store.GetQueueStatsAsync(Ct)).OldestPendingSince);
        var second = await DequeueOneAsync();
        Assert.Equal(id, second.Id);
        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
        Assert.Equal(recoveredAt, second.EnqueuedAt);
        Assert.Equal(backlog, (await DequeueAsync(100)).Select(static j => j.Id));
    }

    [Fact]
    public async Task Recover_UnderABacklog_RecoveredJobIsDequeuedFirst()
    {
        // It was at the head of the queue when it was leased: a worker's death must not send it behind
        // the backlog that arrived while it ran.
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        var backlog = await EnqueueManyAsync(5);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Pending, Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct)).NewState);
        var later = await EnqueueManyAsync(2);

        var next = await DequeueOneAsync();

        Assert.Equal(id, next.Id);
        Assert.Equal(2, next.Attempt);
        Assert.Equal(backlog.Concat(later), (await DequeueAsync(100)).Select(static j => j.Id));
    }

    [Fact]
    public async Task Recover_JobsRecoveredTogether_ComeOutFirstInTheirOrder()
    {
        var ids = await EnqueueManyAsync(3);
        var leased = await DequeueAsync(3);
        Assert.Equal(ids, leased.Select(static j => j.Id));
        var backlog = await EnqueueManyAsync(4);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await Store.RecoverExpiredLeasesAsync(100, Ct)).Count);

        var order = (await DequeueAsync(100)).Select(static j => j.Id);

        Assert.Equal(ids.Concat(backlog), order);
    }

    [Fact]
    public async Task Recover_UnderABacklog_OtherQueuesAreServedByTheirQuotas()
    {
        // Going to the head of its own queue changes nothing between queues: the quotas still split the slots.
        var id = await EnqueueAsync(NewJob(queue: "low"));
        await DequeueOneAsync("low");
        await EnqueueManyAsync(3, "low");
        var critical = await EnqueueManyAsync(3, "critical");
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);

        var leased = await Store.DequeueAsync(
            new DequeueRequest
            {
                Queues = [new QueueQuota("critical", 3), new QueueQuota("low", 1)],
                Limit = 4,
                ServerId = ServerId,
                LeaseDuration = Lease,
            },
            Ct);

        Assert.Equal(critical.Append(id), leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Recover_WithProgressReported_IsPendingWithProgressZero()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await Store.ReportProgressAsync(id, leased.LeaseToken, 70, Ct));
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        await Store.RecoverExpiredLeasesAsync(100, Ct);

        // A value from the dead attempt would look like live work.
        var job = await GetAsync(id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(0, job.Progress);
    }

    [Fact]
    public async Task Recover_OldTokensAckAfterRecovery_IsIgnored()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);

        Assert.False(await AckAsync(Ack(first, AckOutcome.Succeeded)));

        await AssertStateAsync(id, JobState.Pending);
    }

    [Fact]
    public async Task Recover_OldTokensAckAfterRedequeue_IsIgnoredAndNewHolderWins()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);
        var second = await DequeueOneAsync();

        Assert.False(await AckAsync(Ack(first, AckOutcome.Failed, Error(1))));
        Assert.False(await Store.ReportProgressAsync(id, first.LeaseToken, 50, Ct));
        Assert.True(await AckAsync(Ack(second, AckOutcome.Succeeded)));

        await AssertStateAsync(id, JobState.Succeeded);
    }

    [Fact]
    public async Task Recover_AttemptsSpent_IsFailed()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Failed, recovered.NewState);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(Now, job.CompletedAt);
        Assert.Equal(LeaseMessages.Expired, Assert.Single(job.Errors).Message);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Recover_LastAttemptOfSeveral_IsFailedOnlyWhenAttemptsExceedMaxRetry()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 1));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Pending, Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct)).NewState);
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Failed, recovered.NewState);
        var job = await GetAsync(id);
        Assert.Equal(2, job.Attempts);
        Assert.Equal(2, job.Errors.Count);
        Assert.Equal([1, 2], job.Errors.Select(static e => e.Attempt));
    }

    [Fact]
    public async Task Recover_DeadlinePassed_IsFailedEvenWithRetriesLeft()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 10, deadline: Now.AddSeconds(20)));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Failed, recovered.NewState);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(LeaseMessages.Expired, Assert.Single(job.Errors).Message);
    }

    [Fact]
    public async Task Recover_DeadlineExactlyNow_IsFailed()
    {
        // The contract: a deadline at or before now has passed.
        var id = await EnqueueAsync(NewJob(maxRetry: 10, deadline: Now + Lease + TimeSpan.FromSeconds(1)));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Failed, recovered.NewState);
        await AssertStateAsync(id, JobState.Failed);
    }

    [Fact]
    public async Task Recover_DeadlineStillAhead_IsPending()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 10, deadline: Now.AddHours(1)));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Pending, recovered.NewState);
        await AssertStateAsync(id, JobState.Pending);
    }

    [Fact]
    public async Task Recover_MoreExpiredThanLimit_TakesOnlyLimit()
    {
        await EnqueueManyAsync(5);
        await DequeueAsync(5);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(2, (await Store.RecoverExpiredLeasesAsync(2, Ct)).Count);
        Assert.Equal(3, (await Store.RecoverExpiredLeasesAsync(10, Ct)).Count);
        Assert.Empty(await Store.RecoverExpiredLeasesAsync(10, Ct));
    }

    [Fact]
    public async Task Recover_JobWithCancelRequest_IsCancelledNotPending()
    {
        // Not spelled out by the contract: the cancellation was recorded, so a job whose worker died must not
        // run again; the recoverer finishes what the operator asked for.
        var id = await EnqueueAsync(NewJob(maxRetry: 5));
        await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        Assert.Equal(JobState.Cancelled, recovered.NewState);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.False(job.CancelRequested);
        await AssertNothingToDequeueAsync();
    }

    [Fact]
    public async Task Recover_ConcurrentRecoverers_RecoverEachJobOnce()
    {
        var ids = await EnqueueManyAsync(30);
        await DequeueAsync(30);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var batches = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () => await Store.RecoverExpiredLeasesAsync(7, Ct))));

        var recovered = batches.SelectMany(static b => b).Select(static r => r.JobId).ToList();
        Assert.Equal(ids.Order(), recovered.Order());
        foreach (var id in ids)
        {
            var job = await GetAsync(id);
            Assert.Single(job.Errors);
            Assert.Equal(1, job.Attempts);
        }
    }

    [Fact]
    public async Task Recover_RacingTheWorkersAck_EitherWinsButNeverBoth()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var recover = Task.Run(async () => await Store.RecoverExpiredLeasesAsync(10, Ct));
        var ack = Task.Run(async () => await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        await Task.WhenAll(recover, ack);

        var recovered = (await recover).Count == 1;
        Assert.NotEqual(recovered, await ack);
        await AssertStateAsync(id, recovered ? JobState.Pending : JobState.Succeeded);
    }
}
