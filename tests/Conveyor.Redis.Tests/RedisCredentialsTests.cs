namespace Conveyor.Redis.Tests;

/// <summary>
/// Credentials Redis refuses are a configuration error found at the store's start, named: an outside run's server waited
/// its whole start timeout, then suggested starting without the store.
/// </summary>
public sealed class RedisCredentialsTests
{
    [RedisFact]
    public async Task AWrongPassword_FailsTheStartAtOnce_SayingRedisRefusedTheCredentials()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = $"{redis.Endpoint},password=wrong-password" }, TimeProvider.System);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync(deadline.Token));

        Assert.StartsWith("Redis refused the credentials of Conveyor:Redis:Configuration", error.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task NoPassword_WhereRedisRequiresOne_FailsTheStartAtOnce_SayingRedisRefusedTheCredentials()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = redis.Endpoint }, TimeProvider.System);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync(deadline.Token));

        Assert.StartsWith("Redis refused the credentials of Conveyor:Redis:Configuration", error.Message, StringComparison.Ordinal);
    }
}
