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
        var parent = RedisKeyLayoutTests.NewJob("parents");
        var child = RedisKeyLayoutTests.NewJob("children") with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)] };
        var other = RedisKeyLayoutTests.NewJob("broken");
        await store.EnqueueManyAsync([parent, other], CancellationToken.None);
        Assert.Equal(JobState.Waiting, (await store.EnqueueAsync(child, CancellationToken.None)).State);
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
