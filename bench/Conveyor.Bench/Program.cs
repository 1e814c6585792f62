using System.Diagnostics;
using System.Globalization;
using Conveyor;
using Conveyor.Bench;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Conveyor's own benchmark: enqueue N no-op jobs (single calls and bulk), drain them with concurrency C, and
// measure enqueue-to-start latency at a steady offered rate, all in one process on the chosen store.
//   dotnet run -c Release --project bench/Conveyor.Bench -- --store sqlite --n 20000 --concurrency 10
var settings = BenchSettings.Parse(args);
Console.WriteLine($"store={settings.Store} n={settings.N} concurrency={settings.Concurrency} latency: {settings.LatencyN} jobs at {settings.LatencyRate}/s");

var directory = Directory.CreateTempSubdirectory("conveyor-bench-").FullName;
try
{
    await RunEnqueueAsync(settings, directory, bulk: false);
    await RunEnqueueAsync(settings, directory, bulk: true);
    await RunDrainAsync(settings, directory);
    await RunLatencyAsync(settings, directory);
}
finally
{
    Directory.Delete(directory, recursive: true);
}

static IHost BuildHost(BenchSettings settings, string databasePath, bool withServer)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.ClearProviders();
    builder.Services.AddSingleton<BenchRecorder>();
    var conveyor = builder.Services.AddConveyor();
    _ = settings.Store switch
    {
        "sqlite" => conveyor.UseSqlite(o => o.Path = databasePath),
        "memory" => conveyor.UseInMemoryStore(),
        _ => throw new ArgumentException($"--store accepts sqlite or memory; got '{settings.Store}'"),
    };
    conveyor.AddHandler<BenchHandler>();
    if (withServer)
    {
        conveyor.AddServer(o => o.Concurrency = settings.Concurrency);
    }

    return builder.Build();
}

static async Task RunEnqueueAsync(BenchSettings settings, string directory, bool bulk)
{
    using var host = BuildHost(settings, Path.Combine(directory, bulk ? "enqueue-bulk.db" : "enqueue.db"), withServer: false);
    var client = host.Services.GetRequiredService<IJobClient>();
    await host.Services.GetRequiredService<IJobStore>().InitializeAsync(CancellationToken.None);
    await client.EnqueueAsync(new BenchJob(0));
    var stopwatch = Stopwatch.StartNew();
    if (bulk)
    {
        for (var i = 0; i < settings.N; i += 1000)
        {
            await client.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, settings.N - i)).Select(_ => new BenchJob(Stopwatch.GetTimestamp())));
        }
    }
    else
    {
        for (var i = 0; i < settings.N; i++)
        {
            await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()));
        }
    }

    Report(bulk ? "enqueue_bulk" : "enqueue", settings.N / stopwatch.Elapsed.TotalSeconds, $"{stopwatch.Elapsed.TotalSeconds:F2} s");
}

static async Task RunDrainAsync(BenchSettings settings, string directory)
{
    using var host = BuildHost(settings, Path.Combine(directory, "drain.db"), withServer: true);
    var client = host.Services.GetRequiredService<IJobClient>();
    var recorder = host.Services.GetRequiredService<BenchRecorder>();
    await host.Services.GetRequiredService<IJobStore>().InitializeAsync(CancellationToken.None);
    for (var i = 0; i < settings.N; i += 1000)
    {
        await client.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, settings.N - i)).Select(_ => new BenchJob(0)));
    }

    var stopwatch = Stopwatch.StartNew();
    await host.StartAsync();
    while (recorder.Completed < settings.N)
    {
        await Task.Delay(5);
    }

    var elapsed = stopwatch.Elapsed;
    var server = host.Services.GetRequiredService<JobServer>();
    while (server.HeldJobCount > 0)
    {
        await Task.Delay(5);
    }

    Report($"drain@{settings.Concurrency}", settings.N / elapsed.TotalSeconds, $"{elapsed.TotalSeconds:F2} s incl. start; all acknowledged after {stopwatch.Elapsed.TotalSeconds:F2} s");
    await host.StopAsync();
}

static async Task RunLatencyAsync(BenchSettings settings, string directory)
{
    using var host = BuildHost(settings, Path.Combine(directory, "latency.db"), withServer: true);
    var client = host.Services.GetRequiredService<IJobClient>();
    var recorder = host.Services.GetRequiredService<BenchRecorder>();
    await host.StartAsync();
    for (var i = 0; i < 20; i++)
    {
        await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()));
    }

    while (recorder.Completed < 20)
    {
        await Task.Delay(5);
    }

    recorder.ExpectLatencies(settings.LatencyN);
    var start = Stopwatch.GetTimestamp();
    for (var i = 0; i < settings.LatencyN; i++)
    {
        var due = TimeSpan.FromSeconds((double)i / settings.LatencyRate);
        var wait = due - Stopwatch.GetElapsedTime(start);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()));
    }

    while (recorder.Completed < settings.LatencyN + 20)
    {
        await Task.Delay(5);
    }

    var latencies = recorder.Latencies;
    Array.Sort(latencies);
    Report($"latency@{settings.LatencyRate}/s", double.NaN,
        $"p50 {Percentile(latencies, 50):F3} ms, p95 {Percentile(latencies, 95):F3} ms, p99 {Percentile(latencies, 99):F3} ms, max {latencies[^1]:F3} ms");
    await host.StopAsync();
}

static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

static void Report(string workload, double jobsPerSecond, string detail) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{workload,-18} {(double.IsNaN(jobsPerSecond) ? "" : $"{jobsPerSecond,10:N0} jobs/s")}  {detail}"));

internal sealed record BenchSettings(string Store, int N, int Concurrency, int LatencyN, int LatencyRate)
{
    public static BenchSettings Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new BenchSettings(
            Get("store", "sqlite"),
            int.Parse(Get("n", "20000"), CultureInfo.InvariantCulture),
            int.Parse(Get("concurrency", "10"), CultureInfo.InvariantCulture),
            int.Parse(Get("latency-n", "2000"), CultureInfo.InvariantCulture),
            int.Parse(Get("latency-rate", "200"), CultureInfo.InvariantCulture));
    }
}
