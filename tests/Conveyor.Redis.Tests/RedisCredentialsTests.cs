namespace Conveyor.Redis.Tests;

/// <summary>
/// Credentials Redis refuses are named first in the store's failure to start: an outside run's server waited its whole
/// start timeout, then gave the cause deep inside the client's long message. It stays an outage, which the server
/// retries: StackExchange.Redis reports a TLS handshake cut off by a restart the same way, and that passes.
/// </summary>
public sealed class RedisCredentialsTests
{
    [RedisFact]
    public async Task AWrongPassword_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = $"{redis.Endpoint},password=wrong-password" }, TimeProvider.System);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(deadline.Token));

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task NoPassword_WhereRedisRequiresOne_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = redis.Endpoint }, TimeProvider.System);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(deadline.Token));

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }
}
