using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>Drain rate against the number of concurrent handlers, no-op or awaiting --io-ms of I/O.</summary>
internal static class ConcurrencyScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        Report($"drain of up to {settings.N} pre-queued jobs or {settings.Seconds} s, handler io={settings.IoMs} ms");
        foreach (var level in settings.Levels)
        {
            await DrainOnceAsync(settings, level, settings.N, settings.Seconds);
        }
    }

    /// <summary>
    /// Queues <paramref name="waiting"/> jobs (untimed), starts the server, and measures completions per second from
    /// the first completion until <paramref name="measure"/> completions or <paramref name="maxSeconds"/>.
    /// </summary>
    public static async Task<double> DrainOnceAsync(BenchSettings settings, int concurrency, int waiting, double maxSeconds, int? measure = null)
    {
        var goal = Math.Min(waiting, measure ?? waiting);
        var target = await NewTargetAsync(settings, "drain");
        double rate;
        using (var host = Build(settings, target, withServer: true, concurrency))
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            var recorder = host.Services.GetRequiredService<BenchRecorder>();
            await InitializeAsync(host);
            var redisBefore = await RedisUsedMemoryAsync(settings);
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var prefill = Stopwatch.StartNew();
            await PrefillAsync(client, waiting, settings.Store == "redis" ? 1 : 4);
            var prefillSeconds = prefill.Elapsed.TotalSeconds;
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            var redisAfter = await RedisUsedMemoryAsync(settings);
            var workingSetBefore = Environment.WorkingSet;

            StoreProbe.Counters.Reset();
            var clock = Stopwatch.StartNew();
            await host.StartAsync();
            long peakWorkingSet = 0;
            TimeSpan? first = null;
            long firstCount = 0;
            var deadline = TimeSpan.FromSeconds(maxSeconds);
            while (recorder.Completed < goal && clock.Elapsed < deadline)
            {
                await Task.Delay(2);
                var done = recorder.Completed;
                if (first is null && done > 0)
                {
                    first = clock.Elapsed;
                    firstCount = done;
                }

                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
            }

            var end = clock.Elapsed;
            var completed = recorder.Completed;
            var window = (end - (first ?? end)).TotalSeconds;
            rate = window > 0 ? (completed - firstCount) / window : double.NaN;
            var probe = settings.Probe ? $"; {StoreProbe.Counters}" : "";
            await host.StopAsync();

            var memory = $"heap/waiting job {F((heapAfter - heapBefore) / (double)waiting, "N0")} B";
            if (redisBefore is { } rb && redisAfter is { } ra)
            {
                memory += $", redis/waiting job {F((ra - rb) / (double)waiting, "N0")} B";
            }

            Report($"drain c={concurrency,-5} waiting={waiting,-8} {F(rate),10} jobs/s  ({completed} done in {F(end.TotalSeconds, "F2")} s, " +
                   $"first after {F((first ?? end).TotalSeconds, "F2")} s; prefill {F(prefillSeconds, "F1")} s; {memory}; " +
                   $"worker working set {F(workingSetBefore / 1048576.0, "N0")} MiB before, peak {F(peakWorkingSet / 1048576.0, "N0")} MiB{probe})");
        }

        await DropAsync(settings, target);
        return rate;
    }
}
