using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Server.Tests;

/// <summary>
/// The store a crash test shares between its worker processes and itself: a SQLite file in a directory of its own, or
/// a Redis key prefix or PostgreSQL schema of its own when the test command started those servers
/// (CONVEYOR_TEST_REDIS, CONVEYOR_TEST_POSTGRES), or on the Redis (or Redis Cluster) that
/// <paramref name="redisConfiguration"/> names. Disposing drops the schema and the directory.
/// </summary>
internal sealed class CrashTestStore(string store, string name, string? redisConfiguration = null) : IDisposable
{
    private readonly string _scope = name + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The Redis key prefix or PostgreSQL schema of this test's store.</summary>
    public string Scope => _scope;

    private string RedisConfiguration => redisConfiguration ?? Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS")!;

    /// <summary>The stores to run on: SQLite always, Redis and PostgreSQL when the test command started them.</summary>
    public static TheoryData<string> Stores()
    {
        var stores = new TheoryData<string> { "sqlite" };
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS")))
        {
            stores.Add("redis");
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")))
        {
            stores.Add("postgres");
        }

        return stores;
    }

    /// <summary>Where the workers keep the SQLite file and the sample jobs their files (the outbox).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory($"conveyor-{name}-").FullName;

    private string DatabasePath => Path.Combine(Directory, "jobs.db");

    /// <summary>The sample jobs' side effects, one tab-separated line each (none before the first).</summary>
    public List<string[]> OutboxLines()
    {
        var path = Path.Combine(Directory, "outbox", "notifications.log");
        return File.Exists(path) ? File.ReadAllLines(path).Select(static l => l.Split('\t')).ToList() : [];
    }

    /// <summary>A worker process's environment: <paramref name="server"/>'s settings and this store's.</summary>
    public Dictionary<string, string> WorkerSettings(Dictionary<string, string> server)
    {
        var settings = new Dictionary<string, string>(server) { ["Conveyor__Samples__DataDirectory"] = Directory };
        switch (store)
        {
            case "sqlite":
                settings["Conveyor__Sqlite__Path"] = DatabasePath;
                break;
            case "redis":
                settings["Conveyor__Store"] = "redis";
                settings["Conveyor__Redis__Configuration"] = RedisConfiguration;
                settings["Conveyor__Redis__KeyPrefix"] = _scope;
                break;
            default:
                settings["Conveyor__Store"] = "postgres";
                settings["Conveyor__Postgres__ConnectionString"] = Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")!;
                settings["Conveyor__Postgres__Schema"] = _scope;
                break;
        }

        return settings;
    }

    /// <summary>The test's own client on the same store (it enqueues and reads; it runs no server).</summary>
    public ServiceProvider CreateClientServices()
    {
        var services = new ServiceCollection();
        var conveyor = services.AddConveyor();
        _ = store switch
        {
            "sqlite" => conveyor.UseSqlite(o => o.Path = DatabasePath),
            "redis" => conveyor.UseRedis(o => (o.Configuration, o.KeyPrefix) = (RedisConfiguration, _scope)),
            _ => conveyor.UsePostgres(o => (o.ConnectionString, o.Schema) = (Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")!, _scope)),
        };
        return services.BuildServiceProvider();
    }

    public static async Task<List<JobInfo>> StatesAsync(IJobStore store, IEnumerable<string> ids)
    {
        var jobs = new List<JobInfo>();
        foreach (var id in ids)
        {
            jobs.Add((await store.GetAsync(TenantId.Default, id, CancellationToken.None))!);
        }

        return jobs;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; past the deadline, fails with the workers' output.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, params WorkerProcess[] workers)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not reached within {timeout}. Worker output:\n{string.Join("\n----\n", workers.Select(w => w.Output))}");
            }

            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        if (store == "postgres")
        {
            using var connection = new Npgsql.NpgsqlConnection(Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES"));
            connection.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_scope}\" CASCADE", connection);
            drop.ExecuteNonQuery();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
