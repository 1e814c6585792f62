using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Enqueue-to-start latency at a steady offered rate: producers in the same process as the server (one producer per
/// 500 jobs/s, each paced, one awaited EnqueueAsync per job), latency measured with the same monotonic clock.
/// </summary>
internal static class LatencyScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        Report($"latency, concurrency {settings.Concurrency}, {settings.Seconds} s per rate");
        foreach (var rate in settings.Rates)
        {
            await MeasureAsync(settings, rate, (int)(rate * settings.Seconds));
        }
    }

    public static async Task MeasureAsync(BenchSettings settings, int rate, int n)
    {
        var target = await NewTargetAsync(settings, "latency");
        using (var host = Build(settings, target, withServer: true, settings.Concurrency))
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            var recorder = host.Services.GetRequiredService<BenchRecorder>();
            await InitializeAsync(host);
            await host.StartAsync();
            const int warmup = 200;
            for (var i = 0; i < warmup; i++)
            {
                await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()));
            }

            await WaitAsync(() => recorder.Completed >= warmup, TimeSpan.FromSeconds(60));
            recorder.ExpectLatencies(n);
            var producers = Math.Max(1, rate / 500);
            // A producer that cannot keep up stops at the deadline: what it offered by then is what is reported.
            var deadline = TimeSpan.FromSeconds((double)n / rate + 1);
            var sent = 0;
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
            {
                // Producer p sends jobs p, p + producers, ...: together they offer `rate` jobs/s, evenly spaced.
                for (var i = p; i < n && Stopwatch.GetElapsedTime(start) < deadline; i += producers)
                {
                    var wait = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }

                    await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()));
                    Interlocked.Increment(ref sent);
                }
            })));
            var produced = Stopwatch.GetElapsedTime(start);
            var drained = await WaitAsync(() => recorder.Completed >= warmup + sent, TimeSpan.FromSeconds(120));
            var lag = Stopwatch.GetElapsedTime(start) - produced;
            var latencies = recorder.Latencies;
            Array.Sort(latencies);
            Report($"latency@{rate,-6} p50 {F(Percentile(latencies, 50), "F2")} ms  p99 {F(Percentile(latencies, 99), "F2")} ms  " +
                   $"max {F(latencies.Length > 0 ? latencies[^1] : double.NaN, "F1")} ms  (offered {F(sent / produced.TotalSeconds)}/s by {producers} producer(s), " +
                   $"{latencies.Length}/{sent} started, lag after last enqueue {F(lag.TotalSeconds, "F2")} s{(drained ? "" : ", TIMED OUT")})");
            await host.StopAsync();
        }

        await DropAsync(settings, target);
    }

    public static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(2);
        }

        return true;
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
