using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Retention under a steady load: producers offer --rates[0] jobs/s for --seconds with a --retention-seconds
/// retention, and every --window seconds the scenario prints the store's size, the finished jobs it holds, the
/// janitor's backlog (job_retention_backlog), the worker's memory and that window's enqueue-to-start p50/p99. From
/// the second retention window on the store should hold about rate × retention jobs and stay the same size.
/// Each window's p99 is also split by whether the job was enqueued while one of the janitor's
/// delete calls ran (timed by <see cref="StoreProbe"/>), which is the comparison "does deleting stall the work" needs.
/// --io-ms/--io-ms-max give the handlers work, --fail-percent fails that share of first attempts.
/// </summary>
internal static class SoakScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var rate = settings.Rates[0];
        var retention = TimeSpan.FromSeconds(settings.RetentionSeconds);
        var window = TimeSpan.FromSeconds(settings.WindowSeconds);
        Report($"soak, {rate} jobs/s for {settings.Seconds} s, retention {retention.TotalSeconds} s, window {window.TotalSeconds} s, concurrency {settings.Concurrency}");
        var target = await NewTargetAsync(settings, "soak");
        using var host = Build(settings with { Probe = true }, target, withServer: true, settings.Concurrency);
        var client = host.Services.GetRequiredService<IJobClient>();
        var recorder = host.Services.GetRequiredService<BenchRecorder>();
        var store = host.Services.GetRequiredService<IJobStore>();
        long backlog = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "job_retention_backlog")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Exchange(ref backlog, value));
        listener.Start();
        await InitializeAsync(host);
        await host.StartAsync();
        var options = new JobOptions { Retention = retention };
        recorder.ExpectLatencies((int)(rate * window.TotalSeconds * 2));
        // Enough producers that one slow enqueue (PostgreSQL on a busy core: several ms) does not lower the offered rate.
        var producers = Math.Max(1, rate / 100);
        var n = (long)(rate * settings.Seconds);
        var start = Stopwatch.GetTimestamp();
        var stop = TimeSpan.FromSeconds(settings.Seconds);
        long sent = 0;
        var produce = Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            for (long i = p; i < n && Stopwatch.GetElapsedTime(start) < stop; i += producers)
            {
                var wait = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                await client.EnqueueAsync(new BenchJob(Stopwatch.GetTimestamp()), options);
                Interlocked.Increment(ref sent);
            }
        })));

        Report("window  t(s)  offered/s  store_MB  detail                         finished_held  backlog  worker_MB  p50_ms  p99_ms  " +
               "p99_enq_in_delete(n)  p99_clear  deletes  delete_ms_avg/max  load");
        var w = 0;
        var deletions = new List<(long Start, long End)>();
        var deleteMs = new List<double>();
        var steady = new List<(double Ms, bool DuringDelete)>();
        while (!produce.IsCompleted)
        {
            await Task.WhenAny(produce, Task.Delay(window));
            var latencies = recorder.Latencies;
            var spans = recorder.Spans;
            recorder.ExpectLatencies((int)(rate * window.TotalSeconds * 2));
            var windowDeletes = new List<double>();
            while (StoreProbe.Counters.Deletions.TryDequeue(out var deletion))
            {
                deletions.Add(deletion);
                windowDeletes.Add(Stopwatch.GetElapsedTime(deletion.Start, deletion.End).TotalMilliseconds);
            }

            deleteMs.AddRange(windowDeletes);

            var during = new List<double>();
            var clear = new List<double>();
            for (var i = 0; i < latencies.Length; i++)
            {
                var (enqueued, started) = spans[i];
                // By the enqueue instant, which the producers' fixed schedule makes independent of the deletes: classing by
                // overlap with the whole wait would favour long waits, which overlap more of anything.
                var overlaps = deletions.Exists(d => d.Start <= enqueued && d.End >= enqueued);
                (overlaps ? during : clear).Add(latencies[i]);
                if (Stopwatch.GetElapsedTime(start).TotalSeconds > 2 * retention.TotalSeconds)
                {
                    steady.Add((latencies[i], overlaps));
                }
            }

            var oldest = spans.Length > 0 ? spans.Min(x => x.EnqueuedAt) : long.MaxValue;
            deletions.RemoveAll(d => d.End < oldest);
            during.Sort();
            clear.Sort();
            Array.Sort(latencies);
            var (bytes, detail) = await StoreSizeAsync(settings, target);
            var held = (await store.GetQueueStatsAsync(CancellationToken.None)).Sum(q => q.Succeeded + q.Partial + q.Failed + q.Cancelled);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Report($"{++w,6}  {F(elapsed),4}  {F(Interlocked.Read(ref sent) / elapsed),9}  {F(bytes / 1048576.0, "F1"),8}  {detail,-30} " +
                   $"{held,13}  {Interlocked.Read(ref backlog),7}  {F(Process.GetCurrentProcess().WorkingSet64 / 1048576.0, "F0"),9}  " +
                   $"{F(LatencyScenario.Percentile(latencies, 50), "F2"),6}  {F(LatencyScenario.Percentile(latencies, 99), "F2"),6}  " +
                   $"{F(LatencyScenario.Percentile([.. during], 99), "F2"),11} ({during.Count,6})  {F(LatencyScenario.Percentile([.. clear], 99), "F2"),9}  " +
                   $"{windowDeletes.Count,7}  {F(windowDeletes.DefaultIfEmpty().Average(), "F2"),8}/{F(windowDeletes.DefaultIfEmpty().Max(), "F1")}  " +
                   $"{File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        }

        var steadyDuring = steady.Where(x => x.DuringDelete).Select(x => x.Ms).Order().ToArray();
        var steadyClear = steady.Where(x => !x.DuringDelete).Select(x => x.Ms).Order().ToArray();
        Report($"from {F(2 * retention.TotalSeconds)} s on: p50/p99 of jobs enqueued during a delete {F(LatencyScenario.Percentile(steadyDuring, 50), "F2")}/" +
               $"{F(LatencyScenario.Percentile(steadyDuring, 99), "F2")} ms (n={steadyDuring.Length}), of the others " +
               $"{F(LatencyScenario.Percentile(steadyClear, 50), "F2")}/{F(LatencyScenario.Percentile(steadyClear, 99), "F2")} ms (n={steadyClear.Length}); " +
               $"{deleteMs.Count} delete calls, {F(deleteMs.DefaultIfEmpty().Average(), "F2")} ms on average, longest {F(deleteMs.DefaultIfEmpty().Max(), "F1")} ms");

        // Nothing lost: every job offered completes (the failed first attempts come back after their 1-2 s backoff).
        var sentTotal = Interlocked.Read(ref sent);
        var drainStart = Stopwatch.GetTimestamp();
        while (recorder.Completed < sentTotal && Stopwatch.GetElapsedTime(drainStart) < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        Report($"offered {sentTotal} jobs, {recorder.Completed} completed successfully " +
               $"({(recorder.Completed >= sentTotal ? "none lost" : $"{sentTotal - recorder.Completed} missing after 60 s")})");
        await host.StopAsync();
        await DropAsync(settings, target);
    }

    internal static async Task<(long Bytes, string Detail)> StoreSizeAsync(BenchSettings settings, StoreTarget target)
    {
        switch (settings.Store)
        {
            case "redis":
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis + ",allowAdmin=true");
                var server = redis.GetServer(redis.GetEndPoints()[0]);
                var info = await server.InfoAsync("memory");
                var used = long.Parse(info.SelectMany(g => g).First(kv => kv.Key == "used_memory").Value, CultureInfo.InvariantCulture);
                return (used, $"keys {await server.DatabaseSizeAsync()}");
            }
            case "postgres":
            {
                await using var connection = new NpgsqlConnection(settings.Postgres);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    $"SELECT pg_total_relation_size('{target.PostgresSchema}.jobs'), n_live_tup, n_dead_tup FROM pg_stat_user_tables " +
                    $"WHERE schemaname = '{target.PostgresSchema}' AND relname = 'jobs'", connection);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                return (reader.GetInt64(0), $"live {reader.GetInt64(1)} dead {reader.GetInt64(2)}");
            }
            case "sqlite":
            {
                static long Size(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
                var file = Size(target.SqlitePath);
                var wal = Size(target.SqlitePath + "-wal");
                return (file + wal, $"file {F(file / 1048576.0, "F1")} wal {F(wal / 1048576.0, "F1")} MB");
            }
            default:
                return (GC.GetTotalMemory(false), "heap");
        }
    }
}
