using System.Net.Sockets;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The Redis the tests run against: <c>CONVEYOR_TEST_REDIS</c> (host:port), started by
/// <c>eng/services/redis.sh start</c>, which also exports the redis-server and redis-cli paths and a directory
/// for the servers the tests start themselves (cluster, restart and outage tests).
/// </summary>
internal static class RedisTestEnvironment
{
    private static readonly Lazy<string?> UnavailableReason = new(FindUnavailableReason);
    private static readonly Lazy<Task<ConnectionMultiplexer>> SharedConnection = new(() => ConnectionMultiplexer.ConnectAsync(Endpoint!));

    public static string? Endpoint => Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS");

    public static string RedisServer => Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS_SERVER") is { Length: > 0 } path ? path : "redis-server";

    public static string RedisCli => Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS_CLI") is { Length: > 0 } path ? path : "redis-cli";

    /// <summary>Where tests put the servers they start; eng/services/redis.sh stop stops any left there.</summary>
    public static string WorkDirectory => Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "conveyor-redis", "tests");

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the tests cannot reach Redis, or null when they can.</summary>
    public static string? Unavailable => UnavailableReason.Value;

    /// <summary>The process's one connection to the test Redis.</summary>
    public static Task<ConnectionMultiplexer> ConnectionAsync()
    {
        if (Unavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        return SharedConnection.Value;
    }

    /// <summary>A prefix no other test uses.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A fresh store with its own key prefix on the shared connection.</summary>
    public static async ValueTask<RedisJobStore> CreateStoreAsync(TimeProvider timeProvider, string? prefix = null) =>
        new(await ConnectionAsync(), new RedisStoreOptions { KeyPrefix = prefix ?? NewPrefix() }, timeProvider);

    private static string? FindUnavailableReason()
    {
        if (string.IsNullOrEmpty(Endpoint))
        {
            return "CONVEYOR_TEST_REDIS is not set: run `eval \"$(eng/services/redis.sh start)\"` first.";
        }

        try
        {
            var parts = Endpoint.Split(':');
            using var client = new TcpClient();
            client.Connect(parts[0], parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 6379);
            return null;
        }
        catch (SocketException e)
        {
            return $"Redis at CONVEYOR_TEST_REDIS={Endpoint} does not answer ({e.SocketErrorCode}): run `eval \"$(eng/services/redis.sh start)\"` first.";
        }
    }
}
