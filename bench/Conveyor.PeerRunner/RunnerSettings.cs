using System.Globalization;

namespace Conveyor.PeerRunner;

/// <summary>The harness's environment (REDIS_URL, DATABASE_URL, BACKEND, QUEUE, LAT_KEY, N, MODE, RATE, CONCURRENCY).</summary>
internal sealed record RunnerSettings(
    string Backend,
    string RedisUrl,
    string DatabaseUrl,
    string Queue,
    string LatencyKey,
    int N,
    string Mode,
    double Rate,
    int Concurrency,
    string SqlitePath,
    int? SqlitePollMs)
{
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    public static RunnerSettings FromEnvironment() => new(
        Env("BACKEND", "redis"),
        Env("REDIS_URL", "redis://127.0.0.1:6390/0"),
        Env("DATABASE_URL", "postgres://postgres@127.0.0.1:5440/bench"),
        Env("QUEUE", "bench"),
        Env("LAT_KEY", "bench:lat"),
        int.Parse(Env("N", "20000"), CultureInfo.InvariantCulture),
        Env("MODE", "single"),
        double.Parse(Env("RATE", "0"), CultureInfo.InvariantCulture),
        int.Parse(Env("CONCURRENCY", "10"), CultureInfo.InvariantCulture),
        Path.Combine(Env("BENCH_TMP", "/tmp/bench-peers"), "conveyor-bench.db"),
        // Knob, off by default (stock 250 ms): how often the worker looks for jobs another process added.
        Environment.GetEnvironmentVariable("CONVEYOR_SQLITE_POLL_MS") is { Length: > 0 } poll ? int.Parse(poll, CultureInfo.InvariantCulture) : null);

    /// <summary>redis://host:port/db as a StackExchange.Redis configuration string.</summary>
    public string RedisConfiguration => ToRedisConfiguration(RedisUrl);

    public string PostgresConnectionString
    {
        get
        {
            var uri = new Uri(DatabaseUrl);
            var user = uri.UserInfo.Split(':')[0];
            return $"Host={uri.Host};Port={(uri.Port > 0 ? uri.Port : 5432)};Username={user};Database={uri.AbsolutePath.Trim('/')}";
        }
    }

    public static string ToRedisConfiguration(string url)
    {
        var uri = new Uri(url);
        var db = uri.AbsolutePath.Trim('/') is { Length: > 0 } path ? path : "0";
        return $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)},defaultDatabase={db},abortConnect=false";
    }

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
