using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>The job of every benchmark schedule's tick.</summary>
internal sealed record ScheduleTick : IJobPayload
{
    public static string JobType => "bench:tick";
}

/// <summary>Records how late each tick's job started after its scheduled instant, and when it was enqueued.</summary>
internal sealed class TickRecorder
{
    public ConcurrentQueue<(DateTimeOffset Tick, DateTimeOffset Started, string JobId)> Starts { get; } = new();
}

internal sealed class ScheduleTickHandler(TickRecorder recorder) : IJobHandler<ScheduleTick>
{
    public Task HandleAsync(ScheduleTick payload, JobContext context, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetUtcNow();
        if (context.ScheduledAt is { } tick && context.Attempt == 1)
        {
            recorder.Starts.Enqueue((tick, started, context.JobId));
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// The scheduler at default settings. <c>schedule-lateness</c>: --schedules schedules ticking every second for
/// --seconds; how late each tick's job starts after its instant (p50/p99/max), split into the enqueue's lateness and
/// the wait from enqueue to start. <c>schedule-idle</c>: for each count in --schedules, that many schedules none of
/// which is due for weeks, the server idle for --seconds: store calls per second (by operation, through the probe),
/// the store's own count of commands (Redis) or transactions (PostgreSQL), and this process's CPU.
/// </summary>
internal static class ScheduleScenario
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public static async Task RunLatenessAsync(BenchSettings settings)
    {
        var count = settings.Schedules.Count > 0 ? settings.Schedules[0] : 10;
        Report($"schedule-lateness, {count} schedules every second (\"* * * * * *\"), {settings.Seconds} s after a {WarmUp.TotalSeconds} s warm-up, concurrency {settings.Concurrency}, default scheduler and poll settings");
        var target = await NewTargetAsync(settings, "schedule-lateness");
        using (var host = Build(settings with { Probe = true }, target, withServer: true, settings.Concurrency, conveyor =>
        {
            conveyor.Services.AddSingleton<TickRecorder>();
            conveyor.AddHandler<ScheduleTickHandler>();
            for (var i = 0; i < count; i++)
            {
                conveyor.AddSchedule($"bench:tick-{i:D4}", "* * * * * *", new ScheduleTick());
            }
        }))
        {
            await InitializeAsync(host);
            var recorder = host.Services.GetRequiredService<TickRecorder>();
            await host.StartAsync();
            var from = TimeProvider.System.GetUtcNow() + WarmUp;
            var until = from + TimeSpan.FromSeconds(settings.Seconds);
            await Task.Delay(until - TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(1));
            await host.StopAsync();

            var samples = recorder.Starts.Where(s => s.Tick >= from && s.Tick < until).ToList();
            var expected = count * (int)Math.Round((until - from).TotalSeconds);
            var lateness = Sorted(samples.Select(s => (s.Started - s.Tick).TotalMilliseconds));
            var enqueueLateness = Sorted(samples
                .Select(s => StoreProbe.Counters.EnqueuedAt.TryGetValue(s.JobId, out var at) ? (at - s.Tick).TotalMilliseconds : double.NaN)
                .Where(d => !double.IsNaN(d)));
            Report($"lateness  p50 {F(LatencyScenario.Percentile(lateness, 50), "F1")} ms  p99 {F(LatencyScenario.Percentile(lateness, 99), "F1")} ms  max {F(lateness.LastOrDefault(), "F1")} ms  " +
                   $"({samples.Count} ticks of {expected} expected)");
            Report($"  of which the enqueue: p50 {F(LatencyScenario.Percentile(enqueueLateness, 50), "F1")} ms  p99 {F(LatencyScenario.Percentile(enqueueLateness, 99), "F1")} ms  max {F(enqueueLateness.LastOrDefault(), "F1")} ms");
            var worst = samples.GroupBy(s => s.Tick)
                .Select(g => (Tick: g.Key, First: g.Min(s => (s.Started - s.Tick).TotalMilliseconds), Last: g.Max(s => (s.Started - s.Tick).TotalMilliseconds)))
                .OrderByDescending(t => t.Last).Take(3);
            Report($"  latest ticks (first / last of their {count} jobs to start): {string.Join(", ", worst.Select(t => $"{t.Tick:HH:mm:ss} {F(t.First, "F0")} / {F(t.Last, "F0")} ms"))}");
        }

        await DropAsync(settings, target);
    }

    public static async Task RunIdleAsync(BenchSettings settings)
    {
        var counts = settings.Schedules.Count > 0 ? settings.Schedules : [0, 10_000];
        Report($"schedule-idle, {string.Join(" then ", counts)} schedules due in weeks, server idle, {settings.Seconds} s measured after {WarmUp.TotalSeconds} s, default settings");
        foreach (var count in counts)
        {
            await MeasureIdleAsync(settings, count);
        }
    }

    private static async Task MeasureIdleAsync(BenchSettings settings, int count)
    {
        var target = await NewTargetAsync(settings, "schedule-idle");
        using (var host = Build(settings with { Probe = true }, target, withServer: true, settings.Concurrency, conveyor =>
        {
            conveyor.Services.AddSingleton<TickRecorder>();
            conveyor.AddHandler<ScheduleTickHandler>();
        }))
        {
            await InitializeAsync(host);
            var schedules = host.Services.GetRequiredService<IScheduleClient>();

            // Spread over the minutes and hours of the first of January: none due while measured.
            var created = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await schedules.CreateAsync(new ScheduleDefinition
                    {
                        Name = $"bench:idle-{i:D5}",
                        Cron = $"{i % 60} {i / 60 % 24} 1 1 *",
                        JobType = ScheduleTick.JobType,
                    });
                }
            }));
            if (count > 0)
            {
                Report($"  {count} schedules created in {F(created.Elapsed.TotalSeconds, "F1")} s");
            }

            await host.StartAsync();
            await Task.Delay(WarmUp);

            var process = Process.GetCurrentProcess();
            StoreProbe.Counters.ResetCalls();
            var storeBefore = await StoreCountAsync(settings, target);
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds));
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var elapsed = clock.Elapsed.TotalSeconds;
            // Property reads (the janitor reads PurgeBatchSize) are no round trips.
            var calls = StoreProbe.Counters.Calls.Where(static c => !c.Key.StartsWith("get_", StringComparison.Ordinal)).ToArray();
            var storeAfter = await StoreCountAsync(settings, target);
            await host.StopAsync();

            var perSecond = calls.Sum(c => c.Value) / elapsed;
            var byOperation = string.Join(", ", calls.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {F(c.Value / elapsed, "F2")}"));
            var storeSide = storeBefore is { } before && storeAfter is { } after
                ? $"; the store counted {F((after - before) / elapsed, "F1")} {StoreUnit(settings)}/s"
                : "";
            Report($"idle@{count,-6} CPU {F(cpu.TotalMilliseconds / 10 / elapsed, "F2")} % of one core; store calls {F(perSecond, "F1")}/s ({byOperation}){storeSide}; load {File.ReadAllText("/proc/loadavg").Trim()}");
        }

        await DropAsync(settings, target);
    }

    /// <summary>Redis: commands processed (less the INFO that reads it); PostgreSQL: transactions in the database; SQLite: none.</summary>
    private static async Task<long?> StoreCountAsync(BenchSettings settings, StoreTarget target)
    {
        switch (settings.Store)
        {
            case "redis":
                await using (var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis + ",allowAdmin=true"))
                {
                    var info = await redis.GetServer(redis.GetEndPoints()[0]).InfoAsync("stats");
                    return long.Parse(info.SelectMany(g => g).First(kv => kv.Key == "total_commands_processed").Value, CultureInfo.InvariantCulture);
                }

            case "postgres":
                await using (var connection = new NpgsqlConnection(settings.Postgres))
                {
                    await connection.OpenAsync();
                    // Statistics are sent to the collector at most every 0.5 s (PostgreSQL 15: at transaction end and
                    // then flushed); the 60 s window makes that negligible.
                    await using var command = new NpgsqlCommand(
                        "SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    await reader.NextResultAsync();
                    await reader.ReadAsync();
                    return reader.GetInt64(0);
                }

            default:
                _ = target;
                return null;
        }
    }

    private static string StoreUnit(BenchSettings settings) => settings.Store == "redis" ? "commands" : "transactions";

    private static double[] Sorted(IEnumerable<double> values)
    {
        var array = values.ToArray();
        Array.Sort(array);
        return array;
    }
}
