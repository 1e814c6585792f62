using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The schedule scripts and reads on a Redis Cluster: their four keys (definitions, next ticks, history, revisions)
/// share the schedules' hash tag, so every script and the read's transaction stay in one slot.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterScheduleTests
{
    [RedisFact]
    public async Task Cluster_CreateReplaceAtARevisionFireReadAndDelete()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "cluster" }, time);
        await store.InitializeAsync(CancellationToken.None);
        var ct = CancellationToken.None;
        Assert.Single(store.Keys.Schedules.Select(k => connection.HashSlot(k)).Distinct());

        var tick = time.GetUtcNow().AddHours(3);
        Assert.True(await store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = TenantId.Default, Name = "nightly", Cron = "0 3 * * *", TimeZone = "UTC", JobType = "report:generate",
            Payload = """{"a":1}"""u8.ToArray(), NextFireAt = tick,
        }, ct));
        var read = (await store.GetScheduleAsync(TenantId.Default, "nightly", ct))!;
        Assert.True(await store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = TenantId.Default, Name = "nightly", ExpectedNextFireAt = tick, NextFireAt = tick.AddDays(1), LastFireAt = tick,
        }, ct));

        Assert.False(await store.TryReplaceScheduleAsync(read with { Paused = true, NextFireAt = null }, ct));
        var again = Assert.Single(await store.ListSchedulesAsync(null, ct));
        Assert.Equal(read.Revision + 1, again.Revision);
        Assert.True(await store.TryReplaceScheduleAsync(again with { Paused = true, NextFireAt = null }, ct));
        Assert.Equal(read.Revision + 2, (await store.GetScheduleAsync(TenantId.Default, "nightly", ct))!.Revision);

        Assert.True(await store.DeleteScheduleAsync(TenantId.Default, "nightly", ct));
        Assert.False(await connection.GetDatabase().HashExistsAsync(store.Keys.ScheduleRevisions, $"{TenantId.Default}\nnightly"));
        Assert.Null(await store.GetScheduleAsync(TenantId.Default, "nightly", ct));
    }
}
