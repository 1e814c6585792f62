using System.Diagnostics;
using System.Globalization;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Conveyor.Bench;

/// <summary>Where one measurement keeps its jobs: a fresh SQLite file, Redis key prefix or PostgreSQL schema.</summary>
internal sealed record StoreTarget(string Store, string SqlitePath, string RedisPrefix, string PostgresSchema);

internal static class BenchHost
{
    private static readonly string Directory = System.IO.Directory.CreateTempSubdirectory("conveyor-bench-").FullName;

    /// <summary>A fresh place for one measurement. --redis must be a throwaway Redis: it is flushed here.</summary>
    public static async Task<StoreTarget> NewTargetAsync(BenchSettings settings, string name)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var target = new StoreTarget(
            settings.Store,
            settings.SqlitePath is { Length: > 0 } path ? path : Path.Combine(Directory, $"{name}-{id}.db"),
            $"bench-{id}",
            $"bench_{id}");
        if (settings.Store == "redis")
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis + ",allowAdmin=true");
            await redis.GetServer(redis.GetEndPoints()[0]).FlushDatabaseAsync();
        }

        return target;
    }

    /// <summary>
    /// On PostgreSQL, ANALYZE the store's tables, as autovacuum does within a minute of a deployment's first writes. A
    /// scenario that calls this after its warm-up measures the plans a running store has: a fresh schema's statements are
    /// planned for empty tables, and a prepared statement keeps its plan until statistics change, longer than a run lasts.
    /// </summary>
    public static async Task AnalyzeAsync(BenchSettings settings, StoreTarget target)
    {
        if (settings.Store != "postgres")
        {
            return;
        }

        await using var connection = new NpgsqlConnection(settings.Postgres);
        await connection.OpenAsync();
        await using var tables = new NpgsqlCommand($"SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables WHERE schemaname = '{target.PostgresSchema}'", connection);
        if (await tables.ExecuteScalarAsync() is string list)
        {
            await using var analyze = new NpgsqlCommand($"ANALYZE {list}", connection);
            await analyze.ExecuteNonQueryAsync();
        }
    }

    public static async Task DropAsync(BenchSettings settings, StoreTarget target)
    {
        switch (settings.Store)
        {
            case "postgres":
                await using (var connection = new NpgsqlConnection(settings.Postgres))
                {
                    await connection.OpenAsync();
                    await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {target.PostgresSchema} CASCADE", connection);
                    await drop.ExecuteNonQueryAsync();
                }

                break;
            case "redis":
                await using (var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis + ",allowAdmin=true"))
                {
                    // ASYNC: a million keys take longer to free than the client's command timeout.
                    await redis.GetServer(redis.GetEndPoints()[0]).ExecuteAsync("FLUSHDB", "ASYNC");
                }

                break;
            case "sqlite":
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(target.SqlitePath + suffix);
                }

                break;
        }
    }

    public static IHost Build(BenchSettings settings, StoreTarget target, bool withServer, int concurrency, Action<IConveyorBuilder>? extra = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<BenchRecorder>();
        builder.Services.AddSingleton(settings);
        var conveyor = builder.Services.AddConveyor();
        UseStore(conveyor, settings, target);
        conveyor.AddHandler<BenchHandler>();
        if (settings.ConcurrencyLimit is { } max)
        {
            // A concurrency limit on the bench's queue: above the server's concurrency it is never hit, below it is.
            builder.Services.Configure<ConveyorOptions>(o => o.Limits.Concurrency["bench"] = new ConcurrencyLimit { Queue = QueueName.Default, Max = max });
        }

        if (settings.RateLimit is { } perSecond)
        {
            // A rate limit on the bench's queue, in starts per second with a burst of one second's worth.
            builder.Services.Configure<ConveyorOptions>(o => o.Limits.Rate["bench"] = new RateLimit
            {
                Queue = QueueName.Default,
                Limit = perSecond,
                Period = TimeSpan.FromSeconds(1),
                Burst = perSecond,
            });
        }

        if (settings.Idempotent)
        {
            conveyor.AddHandler<IdempotentBenchHandler>();
            _idempotent = true;
        }

        extra?.Invoke(conveyor);
        if (settings.Probe)
        {
            // Wrap whichever store was chosen: the server and the client then go through the probe.
            var store = builder.Services.Last(d => d.ServiceType == typeof(IJobStore));
            builder.Services.Add(ServiceDescriptor.Singleton<IJobStore>(sp => StoreProbe.Wrap((IJobStore)store.ImplementationFactory!(sp))));
        }
        if (withServer)
        {
            conveyor.AddServer(o =>
            {
                o.Concurrency = concurrency;
                o.Prefetch = settings.Prefetch;
                o.Queues = new Dictionary<string, int>(StringComparer.Ordinal) { [QueueName.Default] = 1 };
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            });
            if (settings.BarePipeline)
            {
                // No recovery, tracing, metrics or logging middleware: the handler alone, for the pipeline's cost.
                builder.Services.AddSingleton(sp => new Conveyor.Middleware.JobPipeline([], sp.GetRequiredService<Conveyor.Handlers.JobHandlerRegistry>()));
            }
        }

        return builder.Build();
    }

    /// <summary>The store --store names, on the measurement's own file, key prefix or schema.</summary>
    public static IConveyorBuilder UseStore(IConveyorBuilder conveyor, BenchSettings settings, StoreTarget target) => settings.Store switch
    {
        "sqlite" => conveyor.UseSqlite(o => o.Path = target.SqlitePath),
        "memory" => conveyor.UseInMemoryStore(),
        "redis" => conveyor.UseRedis(o =>
        {
            o.Configuration = settings.Redis;
            o.KeyPrefix = target.RedisPrefix;
        }),
        "postgres" => conveyor.UsePostgres(o =>
        {
            o.ConnectionString = settings.Postgres;
            o.Schema = target.PostgresSchema;
        }),
        _ => throw new ArgumentException($"--store accepts memory, sqlite, redis or postgres; got '{settings.Store}'"),
    };

    /// <summary>
    /// Untimed: <paramref name="n"/> jobs through EnqueueManyAsync, chunks of 1000, <paramref name="parallel"/> at a
    /// time (on a loaded machine, 4 parallel chunks of 1000 Redis enqueues can exceed StackExchange.Redis's 5 s
    /// command timeout, which is why Redis prefills one chunk at a time).
    /// </summary>
    public static async Task PrefillAsync(IJobClient client, int n, int parallel = 4)
    {
        if (_idempotent)
        {
            await PrefillIdempotentAsync(client, n, parallel);
            return;
        }

        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int start;
            while ((start = Interlocked.Add(ref next, 1000) - 1000) < n)
            {
                var count = Math.Min(1000, n - start);
                var jobs = new BenchJob[count];
                for (var i = 0; i < count; i++)
                {
                    jobs[i] = new BenchJob(Stopwatch.GetTimestamp());
                }

                await client.EnqueueManyAsync(jobs);
            }
        }));
    }

    /// <summary>Set by <see cref="Build"/> with --idempotent: <see cref="PrefillAsync"/> then queues <see cref="IdempotentBenchJob"/>s.</summary>
    private static bool _idempotent;

    private static long _nextKey;

    private static async Task PrefillIdempotentAsync(IJobClient client, int n, int parallel)
    {
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int start;
            while ((start = Interlocked.Add(ref next, 1000) - 1000) < n)
            {
                var count = Math.Min(1000, n - start);
                var jobs = new IdempotentBenchJob[count];
                for (var i = 0; i < count; i++)
                {
                    jobs[i] = new IdempotentBenchJob(Stopwatch.GetTimestamp(), Interlocked.Increment(ref _nextKey));
                }

                await client.EnqueueManyAsync(jobs);
            }
        }));
    }

    public static async Task InitializeAsync(IHost host) =>
        await host.Services.GetRequiredService<IJobStore>().InitializeAsync(CancellationToken.None);

    public static async Task<long?> RedisUsedMemoryAsync(BenchSettings settings)
    {
        if (settings.Store != "redis")
        {
            return null;
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis + ",allowAdmin=true");
        var info = await redis.GetServer(redis.GetEndPoints()[0]).InfoAsync("memory");
        var used = info.SelectMany(g => g).First(kv => kv.Key == "used_memory").Value;
        return long.Parse(used, CultureInfo.InvariantCulture);
    }

    public static void Report(string line) => Console.WriteLine(line);

    public static string F(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
}
