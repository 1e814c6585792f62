using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// The settings of a connection the store makes itself (from <see cref="RedisStoreOptions.Configuration"/>); a
/// multiplexer registered by the application keeps its own.
/// </summary>
internal static class RedisConnectionSettings
{
    /// <summary>The shortest and the longest wait between two reconnection attempts.</summary>
    public static readonly TimeSpan ReconnectMin = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc cref="ReconnectMin"/>
    public static readonly TimeSpan ReconnectMax = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the multiplexer checks its connections, and so retries a lost one.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the multiplexer reads the servers' layout again, unless the configuration string says.</summary>
    public const int ConfigCheckSeconds = 1;

    public static ConfigurationOptions Create(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);

        // StackExchange.Redis takes any word for a server: '127.0.0.1:notaport,,=' had a server start and try '=:6379'
        // until its start timeout, where the setting is plainly wrong.
        foreach (var endpoint in options.EndPoints)
        {
            if (endpoint is System.Net.DnsEndPoint { Host: var host } && Uri.CheckHostName(host) == UriHostNameType.Unknown)
            {
                throw new ArgumentException(
                    $"Conveyor:Redis:Configuration names '{host}' as a Redis server, which is not a host name or an address: " +
                    "expected servers as host:port and options as name=value, separated by commas (e.g. 127.0.0.1:6379,password=…).");
            }
        }
        if (!configuration.Contains("abortConnect", StringComparison.OrdinalIgnoreCase))
        {
            // Keep reconnecting in the background instead of failing for good when Redis is down at start.
            options.AbortOnConnectFail = false;
        }

        // StackExchange.Redis retries a lost connection only at its heartbeat (1 s by default), and its default policy
        // waits connectTimeout / 2 (2.5 s) between attempts: a Redis restarted in 0.3 s was reached again after about
        // 2.8 s. Here the heartbeat checks every 100 ms, and an attempt is due once the time since the last one passes
        // a point drawn at random between 100 ms and 100 ms × 1.1^(failed attempts), capped at 500 ms: the connection
        // is back within about half a second of Redis, however long Redis was away. Many processes do not reconnect
        // in step: each one's heartbeat runs on its own phase and each wait is drawn at random. An attempt on a Redis
        // that is down costs Redis nothing (the connection is refused); one that is up is a round trip.
        if (!configuration.Contains("configCheckSeconds", StringComparison.OrdinalIgnoreCase))
        {
            // A Cluster primary that hangs keeps its connections open, so after the cluster fails it over the client
            // keeps sending that primary's slots to it, each call timing out, until it reads the layout again. With
            // StackExchange.Redis's 60 s, creates on those slots answered 503 for 14 s after the failover in our runs
            // (bench/cluster-hang); every second, for 0-5 s. The price is an INFO replication to each connected node
            // a second (and CLUSTER NODES when a role changed).
            options.ConfigCheckSeconds = ConfigCheckSeconds;
        }

        options.ReconnectRetryPolicy = new ExponentialRetry((int)ReconnectMin.TotalMilliseconds, (int)ReconnectMax.TotalMilliseconds);
        options.HeartbeatInterval = HeartbeatInterval;

        // Commands issued while the connection is being restored wait for it (within asyncTimeout) instead of failing
        // at once, so a short outage delays enqueues rather than failing them. Stated because it is what we rely on.
        options.BacklogPolicy = BacklogPolicy.Default;

        // Replies are read and completed on the thread pool instead of the client's dedicated socket threads,
        // which then hand each completion to the pool: one thread hop less per reply, and no extra threads
        // competing for a small machine's cores.
        options.SocketManager ??= SocketManager.ThreadPool;
        return options;
    }
}
