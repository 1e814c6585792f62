using System.Globalization;

namespace Conveyor.Bench;

internal sealed record BenchSettings(
    string Scenario,
    string Store,
    int N,
    int Concurrency,
    int LatencyN,
    int LatencyRate,
    int IoMs,
    int IoMsMax,
    int FailPercent,
    string Redis,
    string Postgres,
    string SqlitePath,
    IReadOnlyList<int> Sizes,
    IReadOnlyList<int> Levels,
    IReadOnlyList<int> Rates,
    double Seconds,
    string Role,
    bool Probe,
    int? Prefetch,
    double RetentionSeconds,
    double WindowSeconds,
    int Backlog,
    bool Idempotent,
    IReadOnlyList<int> Schedules,
    bool BarePipeline,
    int Reps,
    int? ConcurrencyLimit,
    int? RateLimit,
    int Processes,
    IReadOnlyList<string> Parts)
{
    public static BenchSettings Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        int Int(string name, string fallback) => int.Parse(Get(name, fallback), CultureInfo.InvariantCulture);
        IReadOnlyList<int> Ints(string name, string fallback) =>
            Get(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        return new BenchSettings(
            Get("scenario", "basic"),
            Get("store", "sqlite"),
            Int("n", Get("scenario", "basic") == "fairness" ? "1000000" : "20000"),
            Int("concurrency", "10"),
            Int("latency-n", "2000"),
            Int("latency-rate", "200"),
            Int("io-ms", "0"),
            Int("io-ms-max", "0"),
            Int("fail-percent", "0"),
            Get("redis", Environment.GetEnvironmentVariable("CONVEYOR_BENCH_REDIS") ?? "127.0.0.1:6392"),
            Get("postgres", Environment.GetEnvironmentVariable("CONVEYOR_BENCH_POSTGRES") ?? "Host=127.0.0.1;Port=5442;Username=postgres;Database=postgres"),
            Get("sqlite-path", ""),
            Ints("sizes", "10000,100000,1000000"),
            Ints("levels", "1,10,100,1000"),
            Ints("rates", "200,2000,10000"),
            double.Parse(Get("seconds", "8"), CultureInfo.InvariantCulture),
            Get("role", ""),
            args.Contains("--probe"),
            Get("prefetch", "") is { Length: > 0 } prefetch ? int.Parse(prefetch, CultureInfo.InvariantCulture) : null,
            double.Parse(Get("retention-seconds", "20"), CultureInfo.InvariantCulture),
            double.Parse(Get("window", "10"), CultureInfo.InvariantCulture),
            Int("backlog", "0"),
            args.Contains("--idempotent"),
            Ints("schedules", ""),
            args.Contains("--bare-pipeline"),
            Int("reps", "20"),
            Get("concurrency-limit", "") is { Length: > 0 } max ? int.Parse(max, CultureInfo.InvariantCulture) : null,
            Get("rate-limit", "") is { Length: > 0 } rate ? int.Parse(rate, CultureInfo.InvariantCulture) : null,
            Int("processes", "3"),
            Get("parts", "") is { Length: > 0 } parts ? parts.Split(',', StringSplitOptions.RemoveEmptyEntries) : []);
    }
}
