namespace Conveyor.Storage.Conformance;

/// <summary>Unique keys: held by an unfinished job of the tenant until its unique-until.</summary>
public abstract partial class EnqueueTests
{
    [Fact]
    public async Task Enqueue_UniqueKeyHeldByPendingJob_IsDuplicateUniqueKeyWithTheHolder()
    {
        var holder = await EnqueueAsync(NewJob(queue: "mail", uniqueKey: "welcome:42", uniqueUntil: Now.AddHours(1)));
        Time.Advance(TimeSpan.FromMinutes(1));
        var refused = NewJob(uniqueKey: "welcome:42", uniqueUntil: Now.AddHours(1));

        var result = await Store.EnqueueAsync(refused, Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.True(result.IsDuplicate);
        Assert.Equal(holder, result.JobId);
        Assert.Equal(JobState.Pending, result.State);
        Assert.Equal("mail", result.Queue);
        Assert.Equal(StartTime, result.CreatedAt);
    }

    [Theory]
    [MemberData(nameof(UnfinishedStates))]
    public async Task Enqueue_SameIdAndUniqueKeyAgain_IsDuplicateIdOfThatJob(JobState state)
    {
        // A repeat of a create (the Jobs API's idempotent create derives the id from its key): the job holds both the id
        // and the unique key, and a job refused for both reasons reports its id, so that the repeat is recognized.
        var job = NewJob(id: "repeated", queue: "mail", uniqueKey: "k", uniqueUntil: Now.AddDays(1));
        await CreateJobInStateAsync(state, job);
        Time.Advance(TimeSpan.FromMinutes(1));

        var result = await Store.EnqueueAsync(job, Ct);

        Assert.Equal(EnqueueOutcome.DuplicateId, result.Outcome);
        Assert.Equal("repeated", result.JobId);
        Assert.Equal(state, result.State);
        Assert.Equal("mail", result.Queue);
        Assert.Equal(StartTime, result.CreatedAt);
    }

    [Theory]
    [InlineData(DefaultQueue)]
    [InlineData("mail")]
    public async Task Enqueue_IdTakenAndUniqueKeyHeldByAnother_IsDuplicateIdOfTheIdsJob(string queueOfId)
    {
        await EnqueueAsync(NewJob(id: "taken", queue: queueOfId));
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAsync(NewJob(id: "taken", uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateId, result.Outcome);
        Assert.Equal("taken", result.JobId);
        Assert.Equal(queueOfId, result.Queue);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyRefused_WritesNothing()
    {
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)));
        var refused = NewJob(queue: "other", uniqueKey: "k", uniqueUntil: Now.AddHours(1));

        await Store.EnqueueAsync(refused, Ct);

        Assert.Null(await Store.GetAsync(DefaultTenant, refused.Id, Ct));
        await AssertNothingToDequeueAsync("other");
        var page = await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct);
        Assert.Single(page.Jobs);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyRefused_ItsIdStaysFreeForLater()
    {
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)));
        await Store.EnqueueAsync(NewJob(id: "refused-once", uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);

        var result = await Store.EnqueueAsync(NewJob(id: "refused-once"), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Theory]
    [MemberData(nameof(UnfinishedStates))]
    public async Task Enqueue_UniqueKeyHeldByUnfinishedJob_IsDuplicate(JobState state)
    {
        var holder = await CreateJobInStateAsync(state, NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(holder, result.JobId);
        Assert.Equal(state, result.State);
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Enqueue_UniqueKeyOfFinishedJob_IsFreeAgain(JobState state)
    {
        await CreateJobInStateAsync(state, NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfJobCancelledByCommand_IsFreeAgain()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, holder, Ct));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfDeletedJob_IsFreeAgain()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, holder, Ct));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfJobFailedByLeaseRecovery_IsFreeAgain()
    {
        await EnqueueAsync(NewJob(maxRetry: 0, uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Failed, Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct)).NewState);

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfJobCancelledByLeaseRecovery_IsFreeAgain()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, holder, Ct));
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Cancelled, Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct)).NewState);

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfFailedJobRequeued_IsHeldAgain()
    {
        // The contract's rule applied to a requeue: the job is unfinished again and its unique-until has not
        // passed, so it holds its key again (when no other job took the key meanwhile).
        var holder = await CreateJobInStateAsync(JobState.Failed, NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, holder, Ct));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(holder, result.JobId);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyJustBeforeUniqueUntil_IsStillDuplicate()
    {
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)));
        Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyAfterUniqueUntil_IsFreeEvenThoughHolderIsUnfinished()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)));
        Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(1));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        await AssertStateAsync(holder, JobState.Pending);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyTakenOverAfterExpiry_NewJobHoldsIt()
    {
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)));
        Time.Advance(TimeSpan.FromMinutes(11));
        var second = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(10)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(second, result.JobId);
    }

    [Fact]
    public async Task Enqueue_SameUniqueKeyInAnotherTenant_IsStored()
    {
        await EnqueueAsync(NewJob(tenant: "acme", uniqueKey: "k", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAsync(NewJob(tenant: "globex", uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_DifferentUniqueKeys_AreBothStored()
    {
        await EnqueueAsync(NewJob(uniqueKey: "a", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "b", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyHeldByJobInAnotherQueue_IsStillDuplicate()
    {
        // The key is scoped to the tenant, not to the queue.
        var holder = await EnqueueAsync(NewJob(queue: "mail", uniqueKey: "k", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAsync(NewJob(queue: "low", uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(holder, result.JobId);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfJobRecoveredToPending_IsStillHeld()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)));
        await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddDays(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Outcome);
        Assert.Equal(holder, result.JobId);
    }

    [Fact]
    public async Task EnqueueMany_SameUniqueKeyTwiceInOneBatch_SecondIsDuplicateOfTheFirst()
    {
        var jobs = new[]
        {
            NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)),
            NewJob(),
            NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)),
        };

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal([EnqueueOutcome.Enqueued, EnqueueOutcome.Enqueued, EnqueueOutcome.DuplicateUniqueKey], results.Select(static r => r.Outcome));
        Assert.Equal(jobs[0].Id, results[2].JobId);
        Assert.Null(await Store.GetAsync(DefaultTenant, jobs[2].Id, Ct));
    }

    [Fact]
    public async Task EnqueueMany_UniqueKeyHeldByExistingJob_OnlyThatOneRefused()
    {
        var holder = await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)));
        var jobs = new[] { NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)), NewJob(uniqueKey: "other", uniqueUntil: Now.AddHours(1)) };

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, results[0].Outcome);
        Assert.Equal(holder, results[0].JobId);
        Assert.Equal(EnqueueOutcome.Enqueued, results[1].Outcome);
    }

    [Fact]
    public async Task Enqueue_ConcurrentJobsWithTheSameUniqueKey_ExactlyOneStored()
    {
        var jobs = Enumerable.Range(0, 10).Select(_ => NewJob(uniqueKey: "contended", uniqueUntil: Now.AddHours(1))).ToArray();

        var results = await Task.WhenAll(jobs.Select(job => Task.Run(async () => await Store.EnqueueAsync(job, Ct))));

        var stored = Assert.Single(results, static r => r.Outcome == EnqueueOutcome.Enqueued);
        Assert.All(results.Where(r => r != stored), r =>
        {
            Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, r.Outcome);
            Assert.Equal(stored.JobId, r.JobId);
        });
        Assert.Single(await DequeueAsync(100));
    }

    [Fact]
    public async Task Enqueue_ConcurrentRepeatsOfOneJobWithAUniqueKey_OneStoredAndTheKeyStaysHeld()
    {
        var job = NewJob(id: "repeated", uniqueKey: "contended", uniqueUntil: Now.AddHours(1));

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () => await Store.EnqueueAsync(job, Ct))));

        Assert.Single(results, static r => r.Outcome == EnqueueOutcome.Enqueued);
        Assert.All(results.Where(static r => r.Outcome != EnqueueOutcome.Enqueued), static r =>
        {
            Assert.Equal(EnqueueOutcome.DuplicateId, r.Outcome);
            Assert.Equal("repeated", r.JobId);
        });

        // A refused repeat gives the key back to the job that holds it, not to nobody, and as that job holds it: its
        // delete frees the key.
        var other = await Store.EnqueueAsync(NewJob(uniqueKey: "contended", uniqueUntil: Now.AddHours(1)), Ct);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, other.Outcome);
        Assert.Equal("repeated", other.JobId);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, "repeated", Ct));
        Assert.Equal(EnqueueOutcome.Enqueued, (await Store.EnqueueAsync(NewJob(uniqueKey: "contended", uniqueUntil: Now.AddHours(1)), Ct)).Outcome);
    }
}
