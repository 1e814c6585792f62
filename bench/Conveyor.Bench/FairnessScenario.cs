using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Per-tenant fairness (Conveyor:Limits:FairQueues): tenant A's --n jobs (default 1,000,000) wait in the queue, the server
/// drains them, and one job of tenant B is enqueued behind them: how long until B's job starts, and how many of A's
/// started first, with the queue fair and not; and the drain rate of A's backlog both ways (no limit configured).
/// The normal latency to compare with is B's job alone in an idle fair queue.
/// </summary>
internal static class FairnessScenario
{
    private const string TenantB = "tenant-b";

    public static async Task RunAsync(BenchSettings settings)
    {
        var probeCap = TimeSpan.FromSeconds(Math.Max(settings.Seconds, 10) * 12);
        Report($"fairness: tenant A's {settings.N} jobs waiting, then one job of {TenantB}; c={settings.Concurrency}; " +
               $"A's drain rate over the {F(DrainWindow(settings).TotalSeconds, "F0")} s after B's enqueue; B's wait capped at {F(probeCap.TotalSeconds, "F0")} s");
        await IdleLatencyAsync(settings);
        foreach (var fair in new[] { false, true })
        {
            await RunOnceAsync(settings, fair, probeCap);
        }
    }

    private static TimeSpan DrainWindow(BenchSettings settings) => TimeSpan.FromSeconds(Math.Max(settings.Seconds, 10));

    /// <summary>B's job alone in an idle fair queue, 20 times: the normal latency.</summary>
    private static async Task IdleLatencyAsync(BenchSettings settings)
    {
        var target = await NewTargetAsync(settings, "fair-idle");
        using (var host = BuildFair(settings, target, fair: true))
        {
            await InitializeAsync(host);
            await host.StartAsync();
            var client = host.Services.GetRequiredService<IJobClient>();
            var probe = host.Services.GetRequiredService<FairProbe>();
            var samples = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                samples.Add((await probe.TimeToStartAsync(client, TenantB, TimeSpan.FromSeconds(30))).TotalMilliseconds);
            }

            samples.Sort();
            await host.StopAsync();
            Report($"idle fair queue: {TenantB}'s job starts after p50 {F(samples[samples.Count / 2], "F1")} ms, max {F(samples[^1], "F1")} ms (20 jobs, one at a time)");
        }

        await DropAsync(settings, target);
    }

    private static async Task RunOnceAsync(BenchSettings settings, bool fair, TimeSpan probeCap)
    {
        var target = await NewTargetAsync(settings, fair ? "fair-on" : "fair-off");
        using (var host = BuildFair(settings, target, fair))
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            var recorder = host.Services.GetRequiredService<BenchRecorder>();
            var probe = host.Services.GetRequiredService<FairProbe>();
            await InitializeAsync(host);
            var prefill = Stopwatch.StartNew();
            await PrefillAsync(client, settings.N, settings.Store == "redis" ? 1 : 4);
            var prefillSeconds = prefill.Elapsed.TotalSeconds;

            await host.StartAsync();
            while (recorder.Completed == 0)
            {
                await Task.Delay(1);
            }

            // The backlog is draining: B's job goes in behind it, and A's drain is timed meanwhile.
            var from = recorder.Completed;
            var aheadBefore = recorder.Started;
            var clock = Stopwatch.StartNew();
            var waiting = probe.TimeToStartAsync(client, TenantB, probeCap);
            var window = DrainWindow(settings);
            while (clock.Elapsed < window && recorder.Completed < settings.N)
            {
                await Task.Delay(5);
            }

            var rate = (recorder.Completed - from) / clock.Elapsed.TotalSeconds;
            var wait = await waiting;
            var ranFirst = (probe.StartedAt ?? recorder.Started) - aheadBefore;
            var waitText = probe.StartedAt is null
                ? $"not started after {F(probeCap.TotalSeconds, "F0")} s ({F(ranFirst)} of A's jobs started meanwhile)"
                : $"{F(wait.TotalMilliseconds, "F1")} ms ({F(ranFirst)} of A's jobs started between its enqueue and its start)";
            await host.StopAsync();
            Report($"fair={(fair ? "on " : "off")} waiting={settings.N,-8} {TenantB}'s job: {waitText}; drain {F(rate),8} jobs/s; prefill {F(prefillSeconds, "F1")} s");
        }

        await DropAsync(settings, target);
    }

    private static Microsoft.Extensions.Hosting.IHost BuildFair(BenchSettings settings, StoreTarget target, bool fair) =>
        Build(settings, target, withServer: true, settings.Concurrency, conveyor =>
        {
            conveyor.Services.AddSingleton<FairProbe>();
            conveyor.AddHandler<FairProbeHandler>();
            if (fair)
            {
                conveyor.Services.Configure<ConveyorOptions>(o => o.Limits.FairQueues.Add(QueueName.Default));
            }
        });
}

/// <summary>The job of tenant B whose start is measured.</summary>
internal sealed record FairProbeJob(long T) : IJobPayload
{
    public static string JobType => "bench:fair-probe";
}

/// <summary>Enqueues B's job and waits for its start; counts A's jobs started before it through the recorder.</summary>
internal sealed class FairProbe(BenchRecorder recorder)
{
    private TaskCompletionSource<long> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A's jobs started (the recorder's count) when B's job started; null while it has not.</summary>
    public long? StartedAt { get; private set; }

    public void Started(long timestamp)
    {
        StartedAt = recorder.Started;
        _started.TrySetResult(timestamp);
    }

    public async Task<TimeSpan> TimeToStartAsync(IJobClient client, string tenant, TimeSpan cap)
    {
        _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        StartedAt = null;
        var enqueuedAt = Stopwatch.GetTimestamp();
        await client.EnqueueAsync(new FairProbeJob(enqueuedAt), new JobOptions { Tenant = tenant });
        var done = await Task.WhenAny(_started.Task, Task.Delay(cap));
        return done == _started.Task ? Stopwatch.GetElapsedTime(enqueuedAt, await _started.Task) : cap;
    }
}

internal sealed class FairProbeHandler(FairProbe probe) : IJobHandler<FairProbeJob>
{
    public Task HandleAsync(FairProbeJob payload, JobContext context, CancellationToken cancellationToken)
    {
        probe.Started(Stopwatch.GetTimestamp());
        return Task.CompletedTask;
    }
}
