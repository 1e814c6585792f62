using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>Enqueue N jobs (single calls, then bulk), drain N with concurrency C, latency at one offered rate.</summary>
internal static class BasicScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        Report($"n={settings.N} concurrency={settings.Concurrency} latency: {settings.LatencyN} jobs at {settings.LatencyRate}/s");
        await EnqueueAsync(settings, bulk: false);
        await EnqueueAsync(settings, bulk: true);
        await ConcurrencyScenario.DrainOnceAsync(settings, settings.Concurrency, settings.N, maxSeconds: 600);
        await LatencyScenario.MeasureAsync(settings, settings.LatencyRate, settings.LatencyN);
    }

    private static async Task EnqueueAsync(BenchSettings settings, bool bulk)
    {
        var target = await NewTargetAsync(settings, bulk ? "enqueue-bulk" : "enqueue");
        using (var host = Build(settings, target, withServer: false, concurrency: 1))
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            await InitializeAsync(host);
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

            var seconds = stopwatch.Elapsed.TotalSeconds;
            Report($"{(bulk ? "enqueue_bulk" : "enqueue"),-18} {F(settings.N / seconds),10} jobs/s  {F(seconds, "F2")} s");
        }

        await DropAsync(settings, target);
    }
}
