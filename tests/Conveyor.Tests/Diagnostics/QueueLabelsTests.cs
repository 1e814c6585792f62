using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Diagnostics;

/// <summary>
/// The <c>queue</c> label names only known queues (the default queue, this process's served queues, the queues live
/// servers of the registry served in the last day); any queue a caller makes up is labelled <c>(other)</c>, in the
/// counters and the store gauges, and every process over the same store labels alike.
/// </summary>
public sealed class QueueLabelsTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly InMemoryJobStore _store;
    private readonly IJobStore _shared;
    private readonly List<ServiceProvider> _processes = [];

    public QueueLabelsTests()
    {
        _store = new InMemoryJobStore(_time);
        _shared = RegistryStore.Create(_store);
    }

    [Fact]
    public async Task MadeUpQueues_AreCountedUnderOther_AndLoseNoCount()
    {
        var api = Process();
        using var enqueued = Collect<long>(api, "job_enqueued_total");
        var client = api.GetRequiredService<IJobClient>();

        for (var i = 0; i < 100; i++)
        {
            await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = $"caller-made-{i}" });
        }

        await client.EnqueueAsync("mail:send", "{}"u8.ToArray());

        var measurements = enqueued.GetMeasurementSnapshot();
        Assert.Equal(["(other)", "default"], Labels(measurements));
        Assert.Equal(100, measurements.Where(m => Queue(m) == QueueLabels.Other).Sum(m => m.Value));
        Assert.Equal(101, measurements.Sum(m => m.Value));
    }

    [Fact]
    public async Task StoreGauges_MergeTheQueuesNoServerServes_UnderOther()
    {
        await ServeAsync("worker-1", "emails");
        var api = Process();
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        using var sizes = Collect<long>(api, "job_queue_size");
        using var paused = Collect<int>(api, "job_queue_paused");
        using var latency = Collect<double>(api, "job_queue_latency_seconds");
        var client = api.GetRequiredService<IJobClient>();
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "emails" });
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "made-up-0" });
        _time.Advance(TimeSpan.FromSeconds(10));
        for (var i = 1; i < 30; i++)
        {
            await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = $"made-up-{i}" });
        }

        await _store.PauseQueueAsync("made-up-29", CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        sizes.RecordObservableInstruments();
        paused.RecordObservableInstruments();
        latency.RecordObservableInstruments();

        var pending = sizes.GetMeasurementSnapshot().Where(m => (string)m.Tags["state"]! == "pending").ToList();
        Assert.Equal(["(other)", "emails"], Labels(pending));
        Assert.Equal(30, pending.Single(m => Queue(m) == QueueLabels.Other).Value);
        Assert.Equal(1, pending.Single(m => Queue(m) == "emails").Value);
        Assert.Equal(1, paused.GetMeasurementSnapshot().Single(m => Queue(m) == QueueLabels.Other).Value);
        Assert.Equal(0, paused.GetMeasurementSnapshot().Single(m => Queue(m) == "emails").Value);
        Assert.Equal(15, latency.GetMeasurementSnapshot().Single(m => Queue(m) == QueueLabels.Other).Value, precision: 3);
    }

    [Fact]
    public async Task AnApiOnlyProcess_NamesTheQueuesOfTheRegistrysLiveServers_AndKeepsThemWhileTheRegistryCannotBeRead()
    {
        await ServeAsync("worker-1", "emails");
        var api = Process(storeGauges: false);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        using var enqueued = Collect<long>(api, "job_enqueued_total");
        var client = api.GetRequiredService<IJobClient>();
        await RegistryReadAsync(metrics);

        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "emails" });
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "made-up" });
        Assert.Equal(["(other)", "emails"], Labels(enqueued.GetMeasurementSnapshot()));

        // The registry cannot be read: the last known queues stay.
        ((RegistryStore)(object)_shared).Down = true;
        _time.Advance(QueueLabels.RefreshEvery);
        await RegistryReadAsync(metrics);
        Assert.Equal("emails", metrics.Queues.Of("emails"));
    }

    [Fact]
    public async Task AnApiProcess_ReadsTheRegistryAsItsMetricsAreCreated_SoItsFirstJobKeepsItsQueue()
    {
        await ServeAsync("worker-1", "emails");
        var api = Process(storeGauges: false);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        using var enqueued = Collect<long>(api, "job_enqueued_total");
        await metrics.Queues.Refreshing;

        await api.GetRequiredService<IJobClient>().EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "emails" });

        Assert.Equal(["emails"], Labels(enqueued.GetMeasurementSnapshot()));
    }

    [Fact]
    public async Task AFailedFirstRegistryRead_IsTriedAgainWithinASecond()
    {
        // As the host is built the store may not be initialized yet: the read as the metrics are created fails.
        await ServeAsync("worker-1", "emails");
        ((RegistryStore)(object)_shared).Down = true;
        var api = Process(storeGauges: false);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        await metrics.Queues.Refreshing;
        ((RegistryStore)(object)_shared).Down = false;

        _time.Advance(QueueLabels.RetryFirstReadAfter);
        await RegistryReadAsync(metrics);

        Assert.Equal("emails", metrics.Queues.Of("emails"));
    }

    [Fact]
    public async Task AQueueWhoseServersAllLeave_KeepsItsNameForADay_ThenIsLabelledOther()
    {
        await ServeAsync("worker-1", "emails");
        var api = Process(storeGauges: false);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        await RegistryReadAsync(metrics);
        Assert.Equal("emails", metrics.Queues.Of("emails"));

        // Its workers crashed (or a redeploy left it without one): its series, and the alerts on them, go on.
        await _store.RemoveServerAsync("worker-1", CancellationToken.None);
        _time.Advance(QueueLabels.RefreshEvery);
        await RegistryReadAsync(metrics);
        Assert.Equal("emails", metrics.Queues.Of("emails"));

        _time.Advance(QueueLabels.ServedQueuesKeptFor);
        await RegistryReadAsync(metrics);
        Assert.Equal(QueueLabels.Other, metrics.Queues.Of("emails"));
    }

    [Fact]
    public async Task AQueueWhoseServersAllLeave_KeepsItsLatencySeries_SoItsAlertDoesNotResolveIntoOther()
    {
        await ServeAsync("worker-1", "emails");
        var gauges = Process();
        var metrics = gauges.GetRequiredService<ConveyorMetrics>();
        using var latency = Collect<double>(gauges, "job_queue_latency_seconds");
        var client = gauges.GetRequiredService<IJobClient>();
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "emails" });
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "made-up" });
        _time.Advance(TimeSpan.FromMinutes(10));
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);

        await _store.RemoveServerAsync("worker-1", CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        latency.RecordObservableInstruments();

        var labels = Labels(latency.GetMeasurementSnapshot());
        Assert.Contains("emails", labels);
        Assert.Contains(QueueLabels.Other, labels);
        Assert.DoesNotContain("made-up", labels);
        Assert.Equal(660, latency.GetMeasurementSnapshot().Single(m => Queue(m) == "emails").Value);
    }

    [Fact]
    public async Task ARegistryReadThatComesBackLate_DoesNotUndoANewerOne()
    {
        // The read started as the metrics are created finds the registry empty, then hangs.
        var registry = (RegistryStore)(object)_shared;
        registry.HoldNextRead = true;
        var gauges = Process();
        var metrics = gauges.GetRequiredService<ConveyorMetrics>();
        await registry.Held.Task;

        await ServeAsync("worker-1", "emails");
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        Assert.Equal("emails", metrics.Queues.Of("emails"));

        registry.Release.SetResult();
        await metrics.Queues.Refreshing;
        Assert.Equal("emails", metrics.Queues.Of("emails"));
    }

    [Fact]
    public async Task ARegistryThatStaysUnreadable_IsAskedLessAndLessOften_UpToTheUsualPeriod()
    {
        var registry = (RegistryStore)(object)_shared;
        registry.Down = true;
        var api = Process(storeGauges: false);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        await metrics.Queues.Refreshing;
        for (var second = 0; second < 600; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await RegistryReadAsync(metrics);
        }

        // 1, 2, 4, 8 s, then every 15 s: about 44 reads in 10 minutes, not 600.
        Assert.InRange(registry.Reads, 40, 50);
    }

    [Fact]
    public async Task AnAttemptWhoseQueueStopsBeingKnownWhileItRuns_EndsInTheSeriesItStartedIn()
    {
        await ServeAsync("worker-1", "emails");
        var process = Process(storeGauges: false);
        var metrics = process.GetRequiredService<ConveyorMetrics>();
        using var inProgress = Collect<long>(process, "job_in_progress");
        await metrics.Queues.Refreshing;
        var attempt = metrics.JobStarted("mail:send", "emails");

        await _store.RemoveServerAsync("worker-1", CancellationToken.None);
        _time.Advance(QueueLabels.ServedQueuesKeptFor);
        await RegistryReadAsync(metrics);
        Assert.Equal(QueueLabels.Other, metrics.Queues.Of("emails"));
        metrics.JobProcessed(attempt, AttemptStatus.Success, TimeSpan.FromSeconds(1));

        Assert.Equal(["emails"], Labels(inProgress.GetMeasurementSnapshot()));
        Assert.Equal(0, inProgress.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task TwoPublishersOverTheSameStore_LabelEveryQueueAlike_EvenPastTheCap()
    {
        // Twelve served queues and a cap of 10 (besides the default queue): the cut must fall in the same place in both processes, although only
        // the worker serves "zz-reports" itself.
        await ServeAsync("worker-1", [.. Enumerable.Range(0, 11).Select(i => $"q{i:D2}"), "zz-reports"]);
        var worker = Process(maxQueues: 10);
        var api = Process(maxQueues: 10);
        worker.GetRequiredService<ConveyorMetrics>().StartAtZero(["report:build"], ["zz-reports"]);
        var labelsOf = new List<string[]>();
        foreach (var process in new[] { worker, api })
        {
            var metrics = process.GetRequiredService<ConveyorMetrics>();
            await RegistryReadAsync(metrics);
            using var sizes = Collect<long>(process, "job_queue_size");
            using var enqueued = Collect<long>(process, "job_enqueued_total");
            var client = process.GetRequiredService<IJobClient>();
            foreach (var queue in new[] { "q00", "q09", "q10", "zz-reports", "made-up" })
            {
                await client.EnqueueAsync("report:build", "{}"u8.ToArray(), new JobOptions { Queue = queue });
            }

            await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
            sizes.RecordObservableInstruments();
            labelsOf.Add(Labels(sizes.GetMeasurementSnapshot()));
            labelsOf.Add(Labels(enqueued.GetMeasurementSnapshot().Where(m => m.Value > 0)));
        }

        Assert.All(labelsOf, labels => Assert.Equal(["(other)", "q00", "q09"], labels));
    }

    [Fact]
    public async Task JunkQueuesThatArriveAndSortFirst_DoNotPushAServedQueueOut()
    {
        await ServeAsync("worker-1", "zzz");
        var api = Process(maxQueues: 10);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        using var sizes = Collect<long>(api, "job_queue_size");
        using var enqueued = Collect<long>(api, "job_enqueued_total");
        var client = api.GetRequiredService<IJobClient>();
        for (var i = 0; i < 100; i++)
        {
            await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = $"aaa-{i:D3}" });
        }

        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        await client.EnqueueAsync("mail:send", "{}"u8.ToArray(), new JobOptions { Queue = "zzz" });
        _time.Advance(TimeSpan.FromMinutes(1));
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        sizes.RecordObservableInstruments();

        Assert.Equal(["(other)", "zzz"], Labels(sizes.GetMeasurementSnapshot()));
        Assert.Equal(1, sizes.GetMeasurementSnapshot().Single(m => Queue(m) == "zzz" && (string)m.Tags["state"]! == "pending").Value);
        Assert.Equal(["(other)", "zzz"], Labels(enqueued.GetMeasurementSnapshot()));
    }

    [Fact]
    public async Task TheKnownQueues_AreCutAtMaxQueues_InOrdinalOrder()
    {
        await ServeAsync("worker-1", [.. Enumerable.Range(0, 50).Select(i => $"q{i:D2}")]);
        await ServeAsync("worker-2", [.. Enumerable.Range(0, 50).Select(i => $"r{i:D2}")]);
        var api = Process(maxQueues: 10);
        var metrics = api.GetRequiredService<ConveyorMetrics>();
        await RegistryReadAsync(metrics);

        // Ten besides the default queue, which every process names whatever sorts before it.
        Assert.Equal(11, metrics.Queues.KnownQueues.Count);
        Assert.Equal("default", metrics.Queues.Of("default"));
        Assert.Equal("q09", metrics.Queues.Of("q09"));
        Assert.Equal(QueueLabels.Other, metrics.Queues.Of("q10"));
        Assert.Equal(QueueLabels.Other, metrics.Queues.Of("r00"));
    }

    public async ValueTask DisposeAsync()
    {
        ((RegistryStore)(object)_shared).Release.TrySetResult();
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    private static string[] Labels<T>(IEnumerable<CollectedMeasurement<T>> measurements)
        where T : struct =>
        [.. measurements.Select(Queue).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static string Queue<T>(CollectedMeasurement<T> measurement)
        where T : struct =>
        (string)measurement.Tags["queue"]!;

    private static MetricCollector<T> Collect<T>(ServiceProvider process, string instrument)
        where T : struct =>
        new(process.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, instrument);

    /// <summary>Starts the registry read a lookup finds due and waits for it.</summary>
    private static async Task RegistryReadAsync(ConveyorMetrics metrics)
    {
        _ = metrics.Queues.Of(QueueName.Default);
        await metrics.Queues.Refreshing;
    }

    private async Task ServeAsync(string id, params string[] queues)
    {
        var now = _time.GetUtcNow();
        await _store.HeartbeatServerAsync(
            new ServerInfo
            {
                Id = id, Host = "elsewhere", ProcessId = 1, Queues = queues.ToDictionary(q => q, _ => 1), Concurrency = 1, ActiveJobs = 0,
                StartedAt = now, LastHeartbeatAt = now, ExpiresAt = now.AddHours(1),
            },
            CancellationToken.None);
    }

    /// <summary>One process over the shared store: the Jobs API's client and, unless told not to, the store gauges.</summary>
    private ServiceProvider Process(bool storeGauges = true, int maxQueues = 1000)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddConveyor(o =>
        {
            o.Metrics.StoreGauges = storeGauges;
            o.Metrics.MaxQueues = maxQueues;
        });
        services.AddSingleton(_shared);
        var process = services.BuildServiceProvider();
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// The shared store, whose server registry cannot be read while <see cref="Down"/>, and whose next read, with
    /// <see cref="HoldNextRead"/>, reads the registry and then waits for <see cref="Release"/> before it answers.
    /// </summary>
    public class RegistryStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public volatile bool Down;

        public volatile bool HoldNextRead;

        public int Reads;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static IJobStore Create(IJobStore inner)
        {
            var store = Create<IJobStore, RegistryStore>();
            ((RegistryStore)(object)store)._inner = inner;
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.ListServersAsync))
            {
                Interlocked.Increment(ref Reads);
                if (Down)
                {
                    throw new JobStoreUnavailableException("connection refused (test)");
                }

                if (HoldNextRead)
                {
                    HoldNextRead = false;
                    return new ValueTask<IReadOnlyList<ServerInfo>>(HeldReadAsync());
                }
            }

            try
            {
                return targetMethod!.Invoke(_inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
                throw;
            }
        }

        private async Task<IReadOnlyList<ServerInfo>> HeldReadAsync()
        {
            var servers = await _inner.ListServersAsync(CancellationToken.None);
            Held.SetResult();
            await Release.Task;
            return servers;
        }
    }
}
