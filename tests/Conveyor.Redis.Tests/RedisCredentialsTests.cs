namespace Conveyor.Redis.Tests;

/// <summary>
/// Credentials Redis refuses are named first in the store's failure to start: an outside run's server waited its whole
/// start timeout, then gave the cause deep inside the client's long message. It stays an outage, which the server
/// retries: StackExchange.Redis reports a TLS handshake cut off by a restart the same way, and that passes. So the tests
/// try the start as a server does, again while it fails: now and then a connection attempt waits out the client's
/// connect timeout in the middle of its handshake (more often on a loaded machine), and that try has only the timeout
/// to name; a later one has the refusal.
/// </summary>
public sealed class RedisCredentialsTests
{
    [RedisFact]
    public async Task AWrongPassword_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = $"{redis.Endpoint},password=wrong-password" }, TimeProvider.System);

        var error = await StartFailureAsync(store);

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task NoPassword_WhereRedisRequiresOne_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = redis.Endpoint }, TimeProvider.System);

        var error = await StartFailureAsync(store);

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }

    private static async Task<Conveyor.Storage.JobStoreUnavailableException> StartFailureAsync(RedisJobStore store)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(deadline.Token));
            if (error.Message.StartsWith("Redis refused", StringComparison.Ordinal) || deadline.IsCancellationRequested)
            {
                return error;
            }
        }
    }
}
