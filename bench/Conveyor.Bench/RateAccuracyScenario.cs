using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>A no-op job whose handler notes when it started.</summary>
internal sealed record RateJob(int N) : IJobPayload
{
    public static string JobType => "bench:rate";
}

/// <summary>Stopwatch timestamps of the starts in this process (CLOCK_MONOTONIC on Linux: comparable across processes).</summary>
internal sealed class RateStarts
{
    private long[] _starts = new long[1 << 16];
    private int _count;

    public void Record()
    {
        var slot = Interlocked.Increment(ref _count) - 1;
        if (slot >= _starts.Length)
        {
            lock (this)
            {
                if (slot >= _starts.Length)
                {
                    Array.Resize(ref _starts, _starts.Length * 2);
                }
            }
        }

        Volatile.Write(ref _starts[slot], Stopwatch.GetTimestamp());
    }

    public IEnumerable<long> Snapshot() => _starts.AsSpan(0, Math.Min(_count, _starts.Length)).ToArray();
}

internal sealed class RateHandler(RateStarts starts) : IJobHandler<RateJob>
{
    public Task HandleAsync(RateJob payload, JobContext context, CancellationToken cancellationToken)
    {
        starts.Record();
        return Task.CompletedTask;
    }
}

/// <summary>
/// How exactly a rate limit of --rate-limit N starts per second (burst N) holds with --processes (3) worker processes
/// on one store for --seconds (60): a backlog of far more jobs than the limit lets through waits in the queue, the
/// processes drain it, and every start is timed. Reported: the starts in the window against burst + N × t (the limit's
/// promise), the worst excess of the cumulative count over that line at any instant, the starts per one-second step,
/// the busiest sliding second after the first, and each process's share.
/// </summary>
internal static class RateAccuracyScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        if (settings.Store == "memory" || settings.RateLimit is not { } rate)
        {
            throw new ArgumentException("--scenario rate-accuracy needs --rate-limit N and a store processes share (sqlite, redis, postgres)");
        }

        var seconds = (int)settings.Seconds;
        var jobs = rate * (seconds + 20);
        var target = await NewTargetAsync(settings, "rate");
        using (var host = Build(settings, target, withServer: false, concurrency: 1))
        {
            await InitializeAsync(host);
            var client = host.Services.GetRequiredService<IJobClient>();
            for (var start = 0; start < jobs; start += 1000)
            {
                await client.EnqueueManyAsync(Enumerable.Range(start, Math.Min(1000, jobs - start)).Select(static i => new RateJob(i)));
            }
        }

        Report($"rate-accuracy: limit {rate}/s (burst {rate}) on the queue, {settings.Processes} worker processes at c={settings.Concurrency}, " +
               $"{jobs} jobs waiting, {seconds} s measured from the first start");
        var outputs = Enumerable.Range(0, settings.Processes).Select(_ => Path.GetTempFileName()).ToArray();
        var workers = outputs.Select(output => StartWorker(settings, target, output)).ToArray();
        foreach (var worker in workers)
        {
            var line = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line != "READY")
            {
                throw new InvalidOperationException($"a worker said '{line}'");
            }
        }

        // The window starts at the first start, which is at most a poll after READY; two seconds more cover it.
        await Task.Delay(TimeSpan.FromSeconds(seconds + 2));
        foreach (var worker in workers)
        {
            worker.StandardInput.Close();
        }

        foreach (var worker in workers)
        {
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            worker.Dispose();
        }

        var perProcess = outputs.Select(static path => File.ReadAllLines(path).Select(static l => long.Parse(l, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        foreach (var path in outputs)
        {
            File.Delete(path);
        }

        await DropAsync(settings, target);
        Analyse(perProcess, rate, seconds);
    }

    private static void Analyse(long[][] perProcess, int rate, int seconds)
    {
        var all = perProcess.SelectMany(static s => s).Order().ToArray();
        if (all.Length == 0)
        {
            Report("no job started");
            return;
        }

        var first = all[0];
        double At(long timestamp) => (timestamp - first) / (double)Stopwatch.Frequency;
        var inWindow = all.Where(t => At(t) < seconds).Select(At).ToArray();

        // The limit's promise at every instant t: at most burst + rate × t starts since the first.
        var worstExcess = inWindow.Select((t, i) => i + 1 - (rate + rate * t)).Max();
        var perSecond = Enumerable.Range(0, seconds).Select(k => inWindow.Count(t => t >= k && t < k + 1)).ToArray();
        var steady = perSecond.Skip(1).Order().ToArray();
        var busiest = 0;
        for (int lo = 0, hi = 0; hi < inWindow.Length; hi++)
        {
            while (inWindow[hi] - inWindow[lo] >= 1)
            {
                lo++;
            }

            if (inWindow[lo] >= 1)
            {
                busiest = Math.Max(busiest, hi - lo + 1);
            }
        }

        Report($"started in {seconds} s: {inWindow.Length} (the limit allows {rate + rate * seconds}: burst {rate} + {rate}/s × {seconds} s; " +
               $"{F(100.0 * inWindow.Length / (rate + rate * seconds), "F1")}% of it)");
        Report($"worst excess of the running count over burst + rate × t: {F(worstExcess, "F0")} starts");
        Report($"starts per second: first second {perSecond[0]} (burst + refill), then min {steady[0]}, median {steady[steady.Length / 2]}, " +
               $"max {steady[^1]}; busiest sliding second after the first: {busiest}");
        Report("share per process: " + string.Join(", ", perProcess.Select(s => s.Count(t => At(t) >= 0 && At(t) < seconds))));
    }

    /// <summary>The worker: this program in another process (--role rate-worker), until its stdin closes.</summary>
    public static async Task RunWorkerAsync(BenchSettings settings)
    {
        var target = new StoreTarget(settings.Store, settings.SqlitePath, Environment.GetEnvironmentVariable("BENCH_REDIS_PREFIX")!,
            Environment.GetEnvironmentVariable("BENCH_PG_SCHEMA")!);
        var starts = new RateStarts();
        using var host = Build(settings, target, withServer: true, concurrency: settings.Concurrency, conveyor =>
        {
            conveyor.Services.AddSingleton(starts);
            conveyor.AddHandler<RateHandler>();
        });
        await host.StartAsync();
        Console.WriteLine("READY");
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
        await File.WriteAllLinesAsync(Environment.GetEnvironmentVariable("BENCH_OUT")!,
            starts.Snapshot().Select(static t => t.ToString(CultureInfo.InvariantCulture)));
    }

    private static Process StartWorker(BenchSettings settings, StoreTarget target, string output)
    {
        var self = Environment.GetCommandLineArgs()[0];
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        if (self.EndsWith(".dll", StringComparison.Ordinal))
        {
            info.ArgumentList.Add(self);
        }

        foreach (var arg in new[]
                 {
                     "--role", "rate-worker", "--store", settings.Store, "--redis", settings.Redis, "--postgres", settings.Postgres,
                     "--sqlite-path", target.SqlitePath, "--concurrency", settings.Concurrency.ToString(CultureInfo.InvariantCulture),
                     "--rate-limit", settings.RateLimit!.Value.ToString(CultureInfo.InvariantCulture),
                 })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BENCH_REDIS_PREFIX"] = target.RedisPrefix;
        info.Environment["BENCH_PG_SCHEMA"] = target.PostgresSchema;
        info.Environment["BENCH_OUT"] = output;
        return Process.Start(info)!;
    }
}
