using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// What a Redis Cluster refuses in a batch or a continuation (a unique key, an id of the caller's choosing) is named
/// for what it is: a job with a generated id and a unique key is refused for its unique key, not for its id.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterRefusalTests
{
    [RedisFact]
    public async Task ARefusedBatchOrContinuation_NamesTheUniqueKeyItCarries_NotItsGeneratedId()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "refusal" }, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var member = RedisKeyLayoutTests.NewJob("default") with { BatchId = batch.Id, UniqueKey = "uq-1", UniqueUntil = DateTimeOffset.UtcNow.AddHours(1) };

        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateBatchAsync(batch, [RedisKeyLayoutTests.NewJob("default") with { BatchId = batch.Id }, member], CancellationToken.None));
        Assert.Contains($"job {member.Id} carries unique key 'uq-1'", refused.Message, StringComparison.Ordinal);

        var parent = RedisKeyLayoutTests.NewJob("default");
        await store.EnqueueAsync(parent, CancellationToken.None);
        var continuation = RedisKeyLayoutTests.NewJob("default") with { DependsOn = [new JobDependency(parent.Id, SuccessOnly: true)], UniqueKey = "uq-2", UniqueUntil = DateTimeOffset.UtcNow.AddHours(1) };
        refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueManyAsync([continuation], CancellationToken.None));
        Assert.Contains("it carries unique key 'uq-2'", refused.Message, StringComparison.Ordinal);
    }
}
