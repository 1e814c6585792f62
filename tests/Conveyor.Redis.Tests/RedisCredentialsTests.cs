namespace Conveyor.Redis.Tests;

/// <summary>
/// Credentials Redis refuses are named first in the store's failure to start: an outside run's server waited its whole
/// start timeout, then gave the cause deep inside the client's long message. It stays an outage, which the server
/// retries: StackExchange.Redis reports a TLS handshake cut off by a restart the same way, and that passes. So the tests
/// try the start again while it fails, each time on a new store, as a server started again would: now and then a
/// connection attempt waits out the client's connect timeout in the middle of its handshake (more often on a loaded
/// machine), and that try has only the client's timeout to name unless the store's own question to Redis (on a socket of
/// its own) got its answer in time.
/// </summary>
public sealed class RedisCredentialsTests
{
    [RedisFact]
    public async Task AWrongPassword_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");

        var error = await StartFailureAsync(new RedisStoreOptions { Configuration = $"{redis.Endpoint},password=wrong-password" });

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task NoPassword_WhereRedisRequiresOne_FailsTheStart_NamingTheAuthenticationFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");

        var error = await StartFailureAsync(new RedisStoreOptions { Configuration = redis.Endpoint });

        Assert.StartsWith("Redis refused the connection's authentication: check user= and password=", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A handshake that waits out connectTimeout (here Redis's answers come later than it, over a slow link) never gets
    /// the answer to AUTH: the store's connection names only a timeout, at every try. The start asks Redis on a socket
    /// of its own, and names the refusal rather than a Redis that does not run.
    /// </summary>
    [RedisTheory]
    [InlineData(",password=wrong-password", "WRONGPASS")]
    [InlineData("", "NOAUTH")]
    public async Task RefusedCredentials_WhoseHandshakeWaitsOutTheConnectTimeout_FailTheStart_NamingTheRefusal(string credentials, string answer)
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.CliAsync("CONFIG", "SET", "requirepass", "right-password");
        await using var slowLink = SlowLink.To(redis.Port, TimeSpan.FromMilliseconds(500));
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = $"{slowLink.Endpoint}{credentials},connectTimeout=100" }, TimeProvider.System);

        var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(CancellationToken.None));

        Assert.StartsWith(
            "Redis refused the connection's authentication: check user= and password= (and ssl=) in Conveyor:Redis:Configuration. " +
            $"Redis at {slowLink.Endpoint} answered: {answer}", error.Message, StringComparison.Ordinal);
    }

    // Where to look is named too when no Redis answers at the address given: the client's own words name neither.
    [Fact]
    public async Task NoRedisAtTheAddress_FailsTheStart_NamingTheAddressAndTheSetting()
    {
        await using var store = new RedisJobStore(new RedisStoreOptions { Configuration = "127.0.0.1:1,connectTimeout=500,asyncTimeout=500,syncTimeout=500" }, TimeProvider.System);

        var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(CancellationToken.None));

        Assert.StartsWith("Redis at 127.0.0.1:1 is not connected: check that it runs there, and Conveyor:Redis:Configuration (its addresses, password=, ssl=). Redis is unavailable: ", error.Message, StringComparison.Ordinal);
    }

    private static async Task<Conveyor.Storage.JobStoreUnavailableException> StartFailureAsync(RedisStoreOptions options)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (true)
        {
            await using var store = new RedisJobStore(options, TimeProvider.System);
            using var tryTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var error = await Assert.ThrowsAsync<Conveyor.Storage.JobStoreUnavailableException>(async () => await store.InitializeAsync(tryTimeout.Token));
            if (error.Message.StartsWith("Redis refused", StringComparison.Ordinal) || DateTimeOffset.UtcNow > deadline)
            {
                return error;
            }
        }
    }
}
