using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Conveyor;
using Conveyor.PeerRunner;
using Conveyor.Postgres;
using Conveyor.Redis;
using Conveyor.Sqlite;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

// Conveyor's runner for the side-by-side peer benchmark: Conveyor.PeerRunner info|enqueue|worker.
// The contract (roles, environment, output) is the harness's: see bench/README.md.
var settings = RunnerSettings.FromEnvironment();
switch (args.FirstOrDefault())
{
    case "info":
        Console.WriteLine(Info(settings));
        return 0;
    case "enqueue":
        await EnqueueAsync(settings);
        return 0;
    case "worker":
        await WorkerAsync(settings);
        return 0;
    default:
        Console.Error.WriteLine("usage: Conveyor.PeerRunner info|enqueue|worker   (BACKEND=redis|postgres|sqlite)");
        return 2;
}

static IHost BuildHost(RunnerSettings settings, bool worker)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.ClearProviders();
    // Warnings and errors only, on stderr (the driver reads stdout): no per-job logging.
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSingleton(settings);
    // Conveyor__Server__Prefetch=0 and the like, for A/B runs of one setting; the harness sets none of them.
    builder.Configuration.AddEnvironmentVariables();
    var conveyor = builder.Services.AddConveyor();
    _ = settings.Backend switch
    {
        "redis" => conveyor.UseRedis(o => o.Configuration = settings.RedisConfiguration),
        "postgres" => conveyor.UsePostgres(o => o.ConnectionString = settings.PostgresConnectionString),
        "sqlite" => conveyor.UseSqlite(o =>
        {
            o.Path = settings.SqlitePath;
            if (settings.SqlitePollMs is { } poll)
            {
                o.ExternalChangePollInterval = TimeSpan.FromMilliseconds(poll);
            }
        }),
        _ => throw new ArgumentException($"BACKEND={settings.Backend} is not supported (redis|postgres|sqlite)"),
    };
    if (worker)
    {
        builder.Services.AddSingleton<LatencyRecorder>();
        conveyor.AddHandler<PeerHandler>();
        conveyor.AddServer(o =>
        {
            o.Concurrency = settings.Concurrency;
            o.Queues = new Dictionary<string, int>(StringComparer.Ordinal) { [settings.Queue] = 1 };
            // The driver SIGKILLs a worker 10 s after SIGTERM; Conveyor's stock grace period is 30 s.
            o.ShutdownTimeout = RunnerSettings.ShutdownTimeout;
        });
    }

    return builder.Build();
}

static string Info(RunnerSettings settings)
{
    using var host = BuildHost(settings, worker: true);
    var server = host.Services.GetRequiredService<IOptions<JobServerOptions>>().Value;
    var versions = new Dictionary<string, string>
    {
        ["conveyor"] = Version(typeof(IJobClient)),
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
    };
    var store = new Dictionary<string, string> { ["store"] = settings.Backend };
    switch (settings.Backend)
    {
        case "redis":
            versions["StackExchange.Redis"] = Version(typeof(ConnectionMultiplexer));
            store["key_prefix"] = host.Services.GetRequiredService<IOptions<RedisStoreOptions>>().Value.KeyPrefix;
            break;
        case "postgres":
            versions["Npgsql"] = Version(typeof(Npgsql.NpgsqlConnection));
            var pg = host.Services.GetRequiredService<IOptions<PostgresStoreOptions>>().Value;
            store["schema"] = pg.Schema;
            store["max_auto_prepare"] = pg.MaxAutoPrepare.ToString(CultureInfo.InvariantCulture);
            break;
        case "sqlite":
            versions["Microsoft.Data.Sqlite"] = Version(typeof(Microsoft.Data.Sqlite.SqliteConnection));
            var lite = host.Services.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;
            store["file"] = "$BENCH_TMP/conveyor-bench.db, shared by producer and worker, deleted when a measurement starts";
            store["durable_commits"] = lite.DurableCommits.ToString();
            store["external_change_poll_ms"] = lite.ExternalChangePollInterval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture);
            break;
    }

    var result = new
    {
        peer = "conveyor",
        bulk = true,
        versions,
        settings = new Dictionary<string, string>(store)
        {
            ["worker"] = "one process, AddServer(Concurrency=CONCURRENCY, Queues={QUEUE:1}), stock middleware",
            ["lease_s"] = server.LeaseDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["poll_ms"] = server.PollInterval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            ["ack_batch"] = server.AcknowledgementBatchSize.ToString(CultureInfo.InvariantCulture),
            ["shutdown_timeout_s"] = server.ShutdownTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " (stock 30)",
            ["bulk_api"] = "IJobClient.EnqueueManyAsync, chunks of 1000",
            ["prefill"] = "EnqueueManyAsync, chunks of 1000, 4 in parallel",
            ["prefetch"] = (server.Prefetch ?? server.Concurrency).ToString(CultureInfo.InvariantCulture) + " (stock: = concurrency, while handlers are short)",
            ["runtime"] = "TieredCompilation=false (runtimeconfig; see bench/README.md)",
        },
    };
    return JsonSerializer.Serialize(result);
}

static async Task EnqueueAsync(RunnerSettings settings)
{
    await SqliteReset.BeforeMeasurementAsync(settings);
    using var host = BuildHost(settings, worker: false);
    var client = host.Services.GetRequiredService<IJobClient>();
    await host.Services.GetRequiredService<IJobStore>().InitializeAsync(CancellationToken.None);
    // JIT and connection warm-up into a queue no worker reads.
    var warmup = new JobOptions { Queue = "warmup" };
    await client.EnqueueAsync(new PeerJob(NowMs()), warmup);
    await client.EnqueueManyAsync([new PeerJob(NowMs()), new PeerJob(NowMs())], warmup);

    var queue = new JobOptions { Queue = settings.Queue };
    var n = settings.N;
    var stopwatch = Stopwatch.StartNew();
    switch (settings.Mode)
    {
        case "single":
            for (var i = 0; i < n; i++)
            {
                if (settings.Rate > 0)
                {
                    var wait = TimeSpan.FromSeconds(i / settings.Rate) - stopwatch.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }
                }

                await client.EnqueueAsync(new PeerJob(NowMs()), queue);
            }

            break;
        case "bulk":
            for (var i = 0; i < n; i += 1000)
            {
                await client.EnqueueManyAsync(Chunk(Math.Min(1000, n - i)), queue);
            }

            break;
        case "prefill":
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            {
                int start;
                while ((start = Interlocked.Add(ref next, 1000) - 1000) < n)
                {
                    await client.EnqueueManyAsync(Chunk(Math.Min(1000, n - start)), queue);
                }
            }));
            break;
        default:
            throw new ArgumentException($"MODE={settings.Mode} is not supported (single|bulk|prefill)");
    }

    var elapsed = stopwatch.Elapsed.TotalSeconds;
    Console.WriteLine(JsonSerializer.Serialize(new { enqueued = n, elapsed_s = elapsed }));

    static PeerJob[] Chunk(int count)
    {
        var jobs = new PeerJob[count];
        for (var j = 0; j < count; j++)
        {
            jobs[j] = new PeerJob(NowMs());
        }

        return jobs;
    }
}

static async Task WorkerAsync(RunnerSettings settings)
{
    await SqliteReset.BeforeMeasurementAsync(settings);
    using var host = BuildHost(settings, worker: true);
    // Connect the handler's own Redis connection before the first job, not inside it.
    _ = host.Services.GetRequiredService<LatencyRecorder>();
    await host.StartAsync();
    Console.Error.WriteLine($"conveyor worker ready ({settings.Backend}), concurrency {settings.Concurrency}");
    await host.WaitForShutdownAsync();
}

static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

static string Version(Type t) =>
    t.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
    ?? t.Assembly.GetName().Version?.ToString() ?? "?";
