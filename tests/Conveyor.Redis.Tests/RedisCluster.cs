using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A three-master Redis Cluster on loopback (free ports the system chose) that a test starts for itself; disposing stops
/// it. Every test class that starts one is in the collection <see cref="Collection"/>: xunit runs them one after another,
/// never two clusters (six busy redis-servers) at once on the machine's cores.
/// </summary>
internal sealed class RedisCluster : IAsyncDisposable
{
    /// <summary>The xunit collection of the tests that start a cluster.</summary>
    public const string Collection = "Redis Cluster";

    private readonly List<RedisServerProcess> _nodes;

    private RedisCluster(List<RedisServerProcess> nodes)
    {
        _nodes = nodes;
    }

    /// <summary>The nodes' endpoints, as StackExchange.Redis and Conveyor:Redis:Configuration take them.</summary>
    public string Configuration => string.Join(",", _nodes.Select(n => n.Endpoint));

    /// <summary>
    /// Starts the three nodes, makes them one cluster and waits until every node reports it ready. A node that answers
    /// nothing for <paramref name="nodeTimeout"/> (5 s unless given) is marked failed, and the cluster then reports itself down.
    /// </summary>
    public static async Task<RedisCluster> StartAsync(TimeSpan? nodeTimeout = null)
    {
        var nodeTimeoutMs = ((int)(nodeTimeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var cluster = new RedisCluster([]);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                cluster._nodes.Add(await RedisServerProcess.StartAsync(RedisServerProcess.FreePort(withClusterBus: true), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", nodeTimeoutMs, "--appendonly", "no"));
            }

            var created = await RedisServerProcess.RunAsync(RedisTestEnvironment.RedisCli, ["--cluster", "create", .. cluster._nodes.Select(n => n.Endpoint), "--cluster-replicas", "0", "--cluster-yes"]);
            Assert.Contains("All 16384 slots covered", created, StringComparison.Ordinal);
            foreach (var node in cluster._nodes)
            {
                await RedisServerProcess.WaitUntilAsync(async () => (await node.CliAsync("CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal), TimeSpan.FromSeconds(30), $"node {node.Port} to report cluster_state:ok");
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Three queue names whose slots belong to three different nodes.</summary>
    public static List<string> QueuesOnEveryNode(ConnectionMultiplexer connection, RedisKeys keys)
    {
        var byNode = new Dictionary<System.Net.EndPoint, string>();
        for (var i = 0; byNode.Count < 3 && i < 1000; i++)
        {
            var queue = $"q{i}";
            byNode.TryAdd(SlotOwner(connection, connection.HashSlot(keys.ForQueue(queue).Pending)), queue);
        }

        return [.. byNode.Values];
    }

    /// <summary>The node listening on <paramref name="endpoint"/> (as <see cref="SlotOwner"/> names it).</summary>
    public RedisServerProcess Node(System.Net.EndPoint endpoint) =>
        _nodes.Single(n => endpoint is System.Net.IPEndPoint ip ? ip.Port == n.Port : endpoint.ToString()!.EndsWith($":{n.Port}", StringComparison.Ordinal));

    /// <summary>Waits until every node still running reports <paramref name="state"/> (cluster_state:ok or cluster_state:fail).</summary>
    public async Task WaitForStateAsync(string state, TimeSpan timeout)
    {
        foreach (var node in _nodes.Where(static n => n.IsRunning))
        {
            await RedisServerProcess.WaitUntilAsync(async () => (await node.CliAsync("CLUSTER", "INFO")).Contains($"cluster_state:{state}", StringComparison.Ordinal), timeout, $"node {node.Port} to report cluster_state:{state}");
        }
    }

    public static System.Net.EndPoint SlotOwner(ConnectionMultiplexer connection, int slot) =>
        connection.GetServers()[0].ClusterConfiguration!.GetBySlot(slot)!.EndPoint!;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
