using Conveyor.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// What one finished job costs the store: --n small jobs enqueued, leased and acknowledged succeeded (nothing purged,
/// no server running), and the store's size before and after, per job. PostgreSQL also after VACUUM FULL (the update
/// history gone) with the table and its indexes apart; Redis with the count cap's finish-ordered set apart; SQLite
/// after a WAL checkpoint and after VACUUM, with the count cap's indexes apart.
/// </summary>
internal static class FootprintScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var n = settings.N;
        Report($"footprint, {n} finished (succeeded) jobs with the bench payload");
        var target = await NewTargetAsync(settings, "footprint");
        using var host = Build(settings, target, withServer: false, 1);
        await InitializeAsync(host);
        var store = host.Services.GetRequiredService<IJobStore>();
        var before = await SizeAsync(settings, target);
        await PrefillAsync(host.Services.GetRequiredService<IJobClient>(), n, settings.Store == "redis" ? 1 : 4);
        // Small batches on Redis: one script per batch blocks the server, and a loaded machine times out long ones.
        var batch = settings.Store == "redis" ? 200 : 1000;
        var finished = 0;
        while (true)
        {
            var leased = await store.DequeueAsync(new DequeueRequest
            {
                Queues = [new QueueQuota(QueueName.Default, batch)],
                Limit = batch,
                ServerId = "footprint",
                LeaseDuration = TimeSpan.FromMinutes(5),
            }, CancellationToken.None);
            if (leased.Count == 0)
            {
                break;
            }

            finished += await store.AcknowledgeManyAsync(
                [.. leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded, ItemErrors = [] })],
                CancellationToken.None);
        }

        var after = await SizeAsync(settings, target);
        Report($"finished {finished}; store {F(before / 1048576.0, "F1")} MB -> {F(after / 1048576.0, "F1")} MB: {F((after - before) / (double)finished, "F0")} B per finished job");
        foreach (var line in await DetailAsync(settings, target, finished))
        {
            Report(line);
        }

        await DropAsync(settings, target);
    }

    private static async Task<long> SizeAsync(BenchSettings settings, StoreTarget target)
    {
        if (settings.Store == "sqlite")
        {
            await using var connection = new SqliteConnection($"Data Source={target.SqlitePath}");
            await connection.OpenAsync();
            await using var checkpoint = new SqliteCommand("PRAGMA wal_checkpoint(TRUNCATE);", connection);
            await checkpoint.ExecuteNonQueryAsync();
        }

        return (await SoakScenario.StoreSizeAsync(settings, target)).Bytes;
    }

    private static async Task<List<string>> DetailAsync(BenchSettings settings, StoreTarget target, int finished)
    {
        var lines = new List<string>();
        string PerJob(long bytes) => $"{F(bytes / (double)finished, "F0")} B/job";
        switch (settings.Store)
        {
            case "postgres":
            {
                await using var connection = new NpgsqlConnection(settings.Postgres);
                await connection.OpenAsync();
                async Task SizesAsync(string when)
                {
                    await using var command = new NpgsqlCommand(
                        $"SELECT pg_table_size('{target.PostgresSchema}.jobs'), pg_indexes_size('{target.PostgresSchema}.jobs'), " +
                        $"pg_relation_size('{target.PostgresSchema}.jobs_queue_succeeded_idx')", connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    await reader.ReadAsync();
                    lines.Add($"{when}: table {PerJob(reader.GetInt64(0))}, indexes {PerJob(reader.GetInt64(1))} (of which the count cap's jobs_queue_succeeded_idx {PerJob(reader.GetInt64(2))})");
                }

                await SizesAsync("as written");
                await using (var vacuum = new NpgsqlCommand($"VACUUM FULL {target.PostgresSchema}.jobs", connection))
                {
                    await vacuum.ExecuteNonQueryAsync();
                }

                await SizesAsync("after VACUUM FULL");
                break;
            }
            case "redis":
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis);
                var db = redis.GetDatabase();
                var key = $"{target.RedisPrefix}:{{{QueueName.Default}}}:finished:succeeded";
                var usage = (long)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
                lines.Add($"the count cap's finish-ordered set {key}: {PerJob(usage)}");
                break;
            }
            case "sqlite":
            {
                await using var connection = new SqliteConnection($"Data Source={target.SqlitePath}");
                await connection.OpenAsync();
                async Task<long> VacuumedAsync(string sql)
                {
                    await using var command = new SqliteCommand(sql + "VACUUM;", connection);
                    await command.ExecuteNonQueryAsync();
                    return new FileInfo(target.SqlitePath).Length;
                }

                var vacuumed = await VacuumedAsync("");
                var withoutCapIndexes = await VacuumedAsync("DROP INDEX jobs_queue_succeeded; DROP INDEX jobs_queue_unsuccessful;");
                lines.Add($"after VACUUM {PerJob(vacuumed)}; of which the count cap's indexes {PerJob(vacuumed - withoutCapIndexes)}");
                break;
            }
        }

        return lines;
    }
}
