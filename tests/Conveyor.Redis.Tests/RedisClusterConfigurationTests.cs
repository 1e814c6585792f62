using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A setting a Redis Cluster cannot honour is a configuration error found at the store's start, named, not an outage
/// that the server would retry until its start timeout.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterConfigurationTests
{
    [RedisFact]
    public async Task ADefaultDatabaseOtherThanZero_OnACluster_FailsTheStartAtOnce_NamingTheSetting()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = $"{cluster.Configuration},defaultDatabase=1" }, TimeProvider.System);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync(CancellationToken.None));
        Assert.Contains("defaultDatabase", error.Message, StringComparison.Ordinal);
        Assert.Contains("Cluster", error.Message, StringComparison.Ordinal);

        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{cluster.Configuration},defaultDatabase=1");
        await using var registered = new RedisJobStore(connection, new RedisStoreOptions(), TimeProvider.System);
        Assert.Contains("defaultDatabase", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await registered.InitializeAsync(CancellationToken.None))).Message, StringComparison.Ordinal);
    }
}
