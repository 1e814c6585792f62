namespace Conveyor.Storage.Conformance;

/// <summary>Many begins in one call: each its own compare-and-set, answered in the order given.</summary>
public abstract partial class IdempotencyTests
{
    [Fact]
    public async Task BeginMany_MixedRecords_EachAnsweredInOrder()
    {
        await BeginAsync(First, "payment:done");
        var finishedAt = Now;
        Assert.True(await Store.CompleteIdempotencyKeyAsync("payment:done", First, DoneTtl, Ct));
        var heldUntil = LeaseEnd;
        await BeginAsync(First, "payment:held", heldUntil);

        var results = await Store.TryBeginIdempotencyKeysAsync(
            [new("payment:free", Second, LeaseEnd), new("payment:done", Second, LeaseEnd), new("payment:held", Second, LeaseEnd)], Ct);

        Assert.Equal(
            [IdempotencyBeginResult.Started, IdempotencyBeginResult.AlreadyDone(First.JobId, finishedAt), IdempotencyBeginResult.InProgress(First.JobId, heldUntil)],
            results);
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(First, "payment:free")).Outcome);
    }

    [Fact]
    public async Task BeginMany_SameKeyTwice_TheSecondFindsTheFirst()
    {
        var expiresAt = LeaseEnd;

        var results = await Store.TryBeginIdempotencyKeysAsync([new(Key, Second, expiresAt), new(Key, First, expiresAt)], Ct);

        Assert.Equal([IdempotencyBeginResult.Started, IdempotencyBeginResult.InProgress(Second.JobId, expiresAt)], results);
    }

    [Fact]
    public async Task BeginMany_None_AnswersNothing()
    {
        Assert.Empty(await Store.TryBeginIdempotencyKeysAsync([], Ct));
    }

    [Fact]
    public async Task BeginMany_AHundredKeys_AllStarted()
    {
        var begins = Enumerable.Range(0, 100).Select(i => new IdempotencyBegin($"payment:order-{i:D3}", new LeaseRef($"job_{i:D32}", 1), LeaseEnd)).ToList();

        var results = await Store.TryBeginIdempotencyKeysAsync(begins, Ct);

        Assert.All(results, r => Assert.Equal(IdempotencyBeginResult.Started, r));
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(Second, "payment:order-057")).Outcome);
    }
}
