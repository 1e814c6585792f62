using StackExchange.Redis;

namespace Conveyor.PeerRunner;

/// <summary>The handler's own Redis connection (not the store's), to LAT_KEY on REDIS_URL.</summary>
internal sealed class LatencyRecorder : IDisposable
{
    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly RedisKey _key;

    public LatencyRecorder(RunnerSettings settings)
    {
        var configuration = ConfigurationOptions.Parse(settings.RedisConfiguration);
        // Replies complete on the .NET thread pool instead of StackExchange.Redis's own scheduler threads: one thread
        // hop less per RPUSH, and no second set of threads waking up on 2 cores.
        configuration.SocketManager = SocketManager.ThreadPool;
        _connection = ConnectionMultiplexer.Connect(configuration);
        _database = _connection.GetDatabase();
        _key = settings.LatencyKey;
    }

    public Task PushAsync(string value) => _database.ListRightPushAsync(_key, value);

    public void Dispose() => _connection.Dispose();
}
