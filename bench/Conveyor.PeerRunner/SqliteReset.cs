using StackExchange.Redis;

namespace Conveyor.PeerRunner;

/// <summary>
/// Starts every measurement on an empty SQLite file. The driver FLUSHALLs Redis before each measurement, so a
/// missing marker key means "new measurement": the first process to claim the marker (producer or worker, which the
/// latency workload starts nearly together) deletes the file; the other waits until that is done.
/// </summary>
internal static class SqliteReset
{
    private const string Marker = "bench:conveyor:sqlite-reset";
    private const string Done = "bench:conveyor:sqlite-ready";

    public static async Task BeforeMeasurementAsync(RunnerSettings settings)
    {
        if (settings.Backend != "sqlite")
        {
            return;
        }

        using var redis = await ConnectionMultiplexer.ConnectAsync(settings.RedisConfiguration);
        var db = redis.GetDatabase();
        if (await db.StringSetAsync(Marker, Environment.ProcessId, when: When.NotExists))
        {
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                File.Delete(settings.SqlitePath + suffix);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(settings.SqlitePath)!);
            await db.StringSetAsync(Done, 1);
            return;
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await db.KeyExistsAsync(Done))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Marker} is set but {Done} never appeared");
            }

            await Task.Delay(10);
        }
    }
}
