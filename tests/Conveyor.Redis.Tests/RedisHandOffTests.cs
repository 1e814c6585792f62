using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The hand-off of an acknowledgement (acknowledge.lua leasing what it releases) when one queue's script of the same
/// call fails: the caller sees the failure, and what the other scripts leased is not stranded under a lease nobody holds.
/// </summary>
public sealed class RedisHandOffTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task AcknowledgeAndTakeReleased_AnotherQueuesScriptFails_ReleasedJobIsPendingAgainWithNoAttemptCounted()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var (parent, child) = await ContinuationAsync(store);
        var other = RedisKeyLayoutTests.NewJob("broken");
        await store.EnqueueAsync(other, CancellationToken.None);
        var leasedParent = Assert.Single(await store.DequeueAsync(Request("parents"), CancellationToken.None));
        var leasedOther = Assert.Single(await store.DequeueAsync(Request("broken"), CancellationToken.None));

        // The "broken" queue's active set is no longer a sorted set: its script fails with WRONGTYPE.
        var db = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await db.StringSetAsync(store.Keys.ForQueue("broken").All[1], "not a sorted set");

        await Assert.ThrowsAnyAsync<RedisException>(async () => await store.AcknowledgeAndTakeReleasedAsync(
            [Succeeded(leasedParent), Succeeded(leasedOther)], Request("parents", "children", "broken"), CancellationToken.None));

        Assert.Equal(JobState.Succeeded, (await store.GetAsync(TenantId.Default, parent.Id, CancellationToken.None))!.State);
        var released = await store.GetAsync(TenantId.Default, child.Id, CancellationToken.None);
        Assert.NotNull(released);
        Assert.Equal(JobState.Pending, released.State);
        Assert.Equal(0, released.Attempts);
        var next = Assert.Single(await store.DequeueAsync(Request("children"), CancellationToken.None));
        Assert.Equal(child.Id, next.Id);
        Assert.Equal(1, next.Attempt);
    }

    [RedisFact]
    public async Task AcknowledgeAndTakeReleased_IntoAFairQueue_LeavesTheReleasedJobToItsTenantsTurn()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var (_, child) = await ContinuationAsync(store);
        var db = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await db.StringSetAsync(store.Keys.ForQueue("children").Fair, "1");
        var leasedParent = Assert.Single(await store.DequeueAsync(Request("parents"), CancellationToken.None));

        var result = await store.AcknowledgeAndTakeReleasedAsync([Succeeded(leasedParent)], Request("parents", "children"), CancellationToken.None);

        Assert.Equal(1, result.Applied);
        Assert.Empty(result.Leased);
        Assert.Equal(JobState.Pending, (await store.GetAsync(TenantId.Default, child.Id, CancellationToken.None))!.State);
        Assert.Equal(1, await db.ListLengthAsync(store.Keys.ForQueue("children").Lane(TenantId.Default)));
    }

    [RedisFact]
    public async Task AcknowledgeAndTakeReleased_ReleasedRecordCorrupt_IsNotTakenAndTheDequeueFailsItSayingWhy()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var (_, child) = await ContinuationAsync(store);
        var db = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await db.HashDeleteAsync(store.Keys.ForQueue("children").Job(child.Id), "mr");
        var leasedParent = Assert.Single(await store.DequeueAsync(Request("parents"), CancellationToken.None));

        var result = await store.AcknowledgeAndTakeReleasedAsync([Succeeded(leasedParent)], Request("parents", "children"), CancellationToken.None);

        Assert.Equal(1, result.Applied);
        Assert.Empty(result.Leased);
        Assert.Empty(await store.DequeueAsync(Request("children"), CancellationToken.None));
        var failed = await store.GetAsync(TenantId.Default, child.Id, CancellationToken.None);
        Assert.NotNull(failed);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("mr (max retry)", Assert.Single(failed.Errors).Message, StringComparison.Ordinal);
    }

    /// <summary>A job of "parents" and one of "children" waiting for it.</summary>
    private static async Task<(NewJob Parent, NewJob Child)> ContinuationAsync(RedisJobStore store)
    {
        var parent = RedisKeyLayoutTests.NewJob("parents");
        var child = RedisKeyLayoutTests.NewJob("children") with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        await store.EnqueueAsync(parent, CancellationToken.None);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(child, CancellationToken.None)).State);
        return (parent, child);
    }

    private static DequeueRequest Request(params string[] queues) => new()
    {
        Queues = [.. queues.Select(static q => new QueueQuota(q, 10))],
        Limit = 10,
        ServerId = "server-a",
        LeaseDuration = TimeSpan.FromSeconds(30),
    };

    private static JobAcknowledgement Succeeded(LeasedJob job) =>
        new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded };
}
