using System.Diagnostics;
using System.Globalization;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// What one /metrics scrape asks of the store when the store gauges are on, against the number of jobs in it: for each
/// of --sizes, a fresh store holding that many waiting jobs, then 30 reads exactly as the gauges make them (queue
/// statistics, then the server registry; the rest of a scrape is formatting in memory). Reports p50 and max per read.
/// </summary>
internal static class ScrapeScenario
{
    private const int Reads = 30;

    public static async Task RunAsync(BenchSettings settings)
    {
        Report($"store gauges' read (GetQueueStatsAsync + ListServersAsync), {Reads} reads, by jobs in the store");
        foreach (var size in settings.Sizes)
        {
            var target = await NewTargetAsync(settings, "scrape");
            using (var host = Build(settings, target, withServer: false, 1))
            {
                await InitializeAsync(host);
                var store = host.Services.GetRequiredService<IJobStore>();
                var fill = Stopwatch.StartNew();
                await PrefillAsync(host.Services.GetRequiredService<IJobClient>(), size, settings.Store == "redis" ? 1 : 4);
                var fillSeconds = fill.Elapsed.TotalSeconds;

                // The first read after a bulk fill may fold pending counter deltas (PostgreSQL): reported apart.
                var first = Stopwatch.StartNew();
                await ReadAsync(store);
                var firstMs = first.Elapsed.TotalMilliseconds;
                var times = new List<double>(Reads);
                for (var i = 0; i < Reads; i++)
                {
                    var read = Stopwatch.StartNew();
                    var queued = await ReadAsync(store);
                    times.Add(read.Elapsed.TotalMilliseconds);
                    if (queued != size)
                    {
                        throw new InvalidOperationException($"the gauges read {queued} queued jobs, not {size}");
                    }
                }

                times.Sort();
                Report(string.Create(CultureInfo.InvariantCulture,
                    $"jobs={size,9:N0}  read p50 {times[Reads / 2],7:0.00} ms  max {times[^1],7:0.00} ms  (first read after the fill {firstMs:0.0} ms; fill {fillSeconds:0.0} s)"));
            }

            await DropAsync(settings, target);
        }
    }

    private static async Task<long> ReadAsync(IJobStore store)
    {
        var queues = await store.GetQueueStatsAsync(CancellationToken.None);
        await store.ListServersAsync(CancellationToken.None);
        return queues.Sum(q => q.Pending);
    }
}
