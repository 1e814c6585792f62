namespace Conveyor.Storage.Conformance;

/// <summary>
/// Idempotency records: a key is <c>processing</c> for one attempt (job id + lease token) until an expiry that follows
/// the attempt's lease, then <c>done</c> for a time to live; every transition is a compare-and-set on the owner.
/// </summary>
public abstract partial class IdempotencyTests : JobStoreTestBase
{
    private const string Key = "payment:order-42";
    private static readonly TimeSpan DoneTtl = TimeSpan.FromHours(24);
    private static readonly LeaseRef First = new("job_00000000000000000000000000000001", 11);
    private static readonly LeaseRef Second = new("job_00000000000000000000000000000002", 22);

    private DateTimeOffset LeaseEnd => Now + TimeSpan.FromSeconds(4);

    private ValueTask<IdempotencyBeginResult> BeginAsync(LeaseRef owner, string key = Key, DateTimeOffset? expiresAt = null) =>
        Store.TryBeginIdempotencyKeyAsync(key, owner, expiresAt ?? LeaseEnd, Ct);

    [Fact]
    public async Task Begin_NoRecord_Started()
    {
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First));
    }

    [Fact]
    public async Task Begin_ProcessingByAnotherJob_InProgressWithHolderAndExpiry()
    {
        var expiresAt = LeaseEnd;
        await BeginAsync(First, expiresAt: expiresAt);

        var result = await BeginAsync(Second);

        Assert.Equal(IdempotencyBeginResult.InProgress(First.JobId, expiresAt), result);
    }

    [Fact]
    public async Task Begin_ProcessingJustBeforeExpiry_StillInProgress()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));

        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Begin_ProcessingExpired_AnotherJobTakesItOver()
    {
        // The holder's worker died: its lease (and so the record) was not extended.
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(4));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second));
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(First with { LeaseToken = 12 })).Outcome);
    }

    [Fact]
    public async Task Begin_ProcessingByAnEarlierLeaseOfTheSameJob_StartedAtOnce()
    {
        // The store leases a job again only after its earlier lease ended, so that attempt is not running.
        await BeginAsync(First, expiresAt: Now + TimeSpan.FromMinutes(5));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First with { LeaseToken = 12 }));

        Assert.False(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));
        Assert.True(await Store.ReleaseIdempotencyKeyAsync(Key, First with { LeaseToken = 12 }, Ct));
    }

    [Fact]
    public async Task Begin_SameOwnerAgain_StartedAndExpiryMoved()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First));
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Begin_Done_AlreadyDoneWithJobAndFinishTime()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(1));
        var finishedAt = Now;
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));
        Time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(First.JobId, finishedAt), await BeginAsync(Second));
        // The same job again (its acknowledgement was lost and it runs once more) is told too: the work is done.
        Assert.Equal(IdempotencyBeginResult.AlreadyDone(First.JobId, finishedAt), await BeginAsync(First with { LeaseToken = 12 }));
    }

    [Fact]
    public async Task Begin_DoneJustBeforeTtl_StillDone_AfterTtl_StartedAgain()
    {
        await BeginAsync(First);
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));
        Time.Advance(DoneTtl - TimeSpan.FromMilliseconds(1));
        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second)).Outcome);

        Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second));
    }

    [Fact]
    public async Task Begin_DifferentKeys_AreIndependent()
    {
        await BeginAsync(First, "payment:1");

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second, "payment:2"));
    }

    [Fact]
    public async Task Begin_KeysWithAnyCharacters_AreKeptApart()
    {
        string[] keys = ["a|b", "a b", "a\"b", "ключ:1", "a", "A", "{tag}:x", new string('k', 500)];
        foreach (var key in keys)
        {
            Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First, key));
        }

        foreach (var key in keys)
        {
            Assert.True(await Store.CompleteIdempotencyKeyAsync(key, First, DoneTtl, Ct));
            Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second, key)).Outcome);
        }
    }

    [Fact]
    public async Task Begin_ConcurrentJobs_ExactlyOneStarts()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
            await Store.TryBeginIdempotencyKeyAsync("contended", new LeaseRef($"job_{i:x32}", i + 1), Now + Lease, Ct))));

        Assert.Single(results, static r => r.Outcome == IdempotencyBeginOutcome.Started);
        Assert.All(results.Where(static r => r.Outcome != IdempotencyBeginOutcome.Started),
            static r => Assert.Equal(IdempotencyBeginOutcome.InProgress, r.Outcome));
    }

    [Fact]
    public async Task Begin_BadArguments_AreRefused()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.TryBeginIdempotencyKeyAsync(null!, First, LeaseEnd, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.TryBeginIdempotencyKeyAsync("", First, LeaseEnd, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.TryBeginIdempotencyKeyAsync(Key, default, LeaseEnd, Ct));
    }

    [Fact]
    public async Task Extend_OwnClaim_KeepsTheKeyPastTheFirstExpiry()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(1, await Store.ExtendIdempotencyKeysAsync([new IdempotencyClaim(Key, First)], Now + TimeSpan.FromSeconds(4), Ct));
        Time.Advance(TimeSpan.FromSeconds(3));

        var result = await BeginAsync(Second);
        Assert.Equal(IdempotencyBeginResult.InProgress(First.JobId, Now + TimeSpan.FromSeconds(1)), result);
    }

    [Fact]
    public async Task Extend_ClaimsOfOthersDoneOrMissing_AreLeftAlone()
    {
        await BeginAsync(First, "mine");
        await BeginAsync(Second, "taken");
        await BeginAsync(First, "done");
        Assert.True(await Store.CompleteIdempotencyKeyAsync("done", First, TimeSpan.FromSeconds(10), Ct));

        var extended = await Store.ExtendIdempotencyKeysAsync(
            [new IdempotencyClaim("mine", First), new IdempotencyClaim("taken", First), new IdempotencyClaim("done", First), new IdempotencyClaim("missing", First)],
            Now + TimeSpan.FromMinutes(1),
            Ct);

        Assert.Equal(1, extended);
        Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second, "mine")).Outcome);
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(First, "taken"));
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second, "done"));
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second, "missing"));
    }

    [Fact]
    public async Task Extend_NoClaims_IsZero()
    {
        Assert.Equal(0, await Store.ExtendIdempotencyKeysAsync([], Now + Lease, Ct));
    }

    [Fact]
    public async Task Complete_ByOwner_IsTrueAndKeyDone()
    {
        await BeginAsync(First);

        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(First.JobId, Now), await BeginAsync(Second));
        Assert.False(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));
    }

    [Fact]
    public async Task Complete_ByOwnerAfterItsRecordExpired_NobodyTookIt_IsTrue()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Complete_WhileAnotherJobHoldsIt_IsFalseAndChangesNothing()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(5));
        var expiresAt = LeaseEnd;
        await BeginAsync(Second, expiresAt: expiresAt);

        Assert.False(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginResult.InProgress(Second.JobId, expiresAt), await BeginAsync(First with { JobId = "job_third" }));
    }

    [Fact]
    public async Task Complete_WithoutARecord_IsTrueAndKeyDone()
    {
        // Nobody holds the key (its record was purged, say): recording the finished work is strictly better.
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Complete_AfterAnotherJobFinishedIt_IsFalseAndKeepsTheFirstFinish()
    {
        await BeginAsync(First);
        Time.Advance(TimeSpan.FromSeconds(5));
        await BeginAsync(Second);
        var finishedAt = Now;
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, Second, DoneTtl, Ct));
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(Second.JobId, finishedAt), await BeginAsync(First with { JobId = "job_third" }));
    }

    [Fact]
    public async Task Release_ByOwner_IsTrueAndAnotherJobStarts()
    {
        await BeginAsync(First);

        Assert.True(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));

        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(Second));
    }

    [Fact]
    public async Task Release_ByAnotherOwnerOrAnEarlierLease_IsFalseAndKeepsTheHolder()
    {
        await BeginAsync(First with { LeaseToken = 12 });

        Assert.False(await Store.ReleaseIdempotencyKeyAsync(Key, Second, Ct));
        Assert.False(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));

        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Release_DoneKey_IsFalseAndStaysDone()
    {
        await BeginAsync(First);
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, First, DoneTtl, Ct));

        Assert.False(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));

        Assert.Equal(IdempotencyBeginOutcome.AlreadyDone, (await BeginAsync(Second)).Outcome);
    }

    [Fact]
    public async Task Release_UnknownKey_IsFalse()
    {
        Assert.False(await Store.ReleaseIdempotencyKeyAsync("never-begun", First, Ct));
    }

    [Fact]
    public async Task Lifecycle_FailThenRetryThenDone_DuplicateSeesDone()
    {
        // Attempt 1 fails and releases; the retry (a new lease) starts and finishes; a duplicate job sees done.
        await BeginAsync(First);
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second)).Outcome);
        Assert.True(await Store.ReleaseIdempotencyKeyAsync(Key, First, Ct));
        var retry = First with { LeaseToken = 13 };
        Assert.Equal(IdempotencyBeginResult.Started, await BeginAsync(retry));
        Assert.True(await Store.CompleteIdempotencyKeyAsync(Key, retry, DoneTtl, Ct));

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(First.JobId, Now), await BeginAsync(Second));
    }
}
