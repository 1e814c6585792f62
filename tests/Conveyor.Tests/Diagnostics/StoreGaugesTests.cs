using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Diagnostics;

/// <summary>The store-derived gauges of the Conveyor meter: opt-in, cached for an interval, left out while the store is down.</summary>
public sealed class StoreGaugesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ByDefault_NoStoreGaugeIsPublished_AndTheStoreIsNeverAskedForStatistics()
    {
        await using var services = Build(storeGauges: null, out var store);
        var factory = services.GetRequiredService<IMeterFactory>();
        _ = services.GetRequiredService<ConveyorMetrics>();
        using var sizes = new MetricCollector<long>(factory, ConveyorMetrics.MeterName, "job_queue_size", _time);
        await services.GetRequiredService<IJobClient>().EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);

        sizes.RecordObservableInstruments();

        Assert.Null(sizes.Instrument);
        Assert.Empty(sizes.GetMeasurementSnapshot());
        Assert.Equal(0, store.QueueStatsReads);
    }

    [Fact]
    public async Task Collections_WithinTheInterval_ReadTheStoreOnce_AndTheLatencyGrowsWithTheClock()
    {
        await using var services = Build(storeGauges: true, out var store);
        var metrics = services.GetRequiredService<ConveyorMetrics>();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var sizes = new MetricCollector<long>(factory, ConveyorMetrics.MeterName, "job_queue_size", _time);
        using var latency = new MetricCollector<double>(factory, ConveyorMetrics.MeterName, "job_queue_latency_seconds", _time);
        using var alive = new MetricCollector<int>(factory, ConveyorMetrics.MeterName, "job_servers_alive", _time);
        var client = services.GetRequiredService<IJobClient>();
        await client.EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);
        await client.EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);

        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
            sizes.RecordObservableInstruments();
            latency.RecordObservableInstruments();
        }

        Assert.Equal(1, store.QueueStatsReads);
        Assert.Equal(2, Pending(sizes));
        Assert.Equal(10, latency.LastMeasurement!.Value, precision: 3);
        Assert.Equal("default", latency.LastMeasurement.Tags["queue"]);
        alive.RecordObservableInstruments();
        Assert.Equal(0, alive.LastMeasurement!.Value);

        _time.Advance(TimeSpan.FromSeconds(5));
        await client.EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        sizes.RecordObservableInstruments();

        Assert.Equal(2, store.QueueStatsReads);
        Assert.Equal(3, Pending(sizes));
    }

    [Fact]
    public async Task AStoreOutage_LeavesTheGaugesOut_WithStoreUpZero_UntilTheStoreAnswersAgain()
    {
        await using var services = Build(storeGauges: true, out var store);
        var metrics = services.GetRequiredService<ConveyorMetrics>();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var sizes = new MetricCollector<long>(factory, ConveyorMetrics.MeterName, "job_queue_size", _time);
        using var up = new MetricCollector<int>(factory, ConveyorMetrics.MeterName, "job_store_up", _time);
        await services.GetRequiredService<IJobClient>().EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);

        store.Down = true;
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        sizes.RecordObservableInstruments();
        up.RecordObservableInstruments();

        Assert.Empty(sizes.GetMeasurementSnapshot());
        Assert.Equal(0, up.LastMeasurement!.Value);

        store.Down = false;
        _time.Advance(TimeSpan.FromSeconds(15));
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        sizes.RecordObservableInstruments();
        up.RecordObservableInstruments();

        Assert.Equal(1, Pending(sizes));
        Assert.Equal(1, up.LastMeasurement!.Value);
    }

    [Fact]
    public async Task AHungStore_DoesNotHoldARefreshPastTheTimeout_AndNoSecondReadStartsMeanwhile()
    {
        await using var services = Build(storeGauges: true, out var store);
        var metrics = services.GetRequiredService<ConveyorMetrics>();
        store.Hang = true;

        var refresh = metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        await store.QueueStatsRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        Assert.False(refresh.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(3));
        await Task.WhenAll(refresh, second).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, store.QueueStatsReads);
        Assert.Null(metrics.StoreGauges.Current);
    }

    /// <summary>
    /// Also with timers that end the scrape's wait a little early: an outside run saw job_store_up 1 during a frozen
    /// PostgreSQL (1 run of 3), at the instant the read failed, as a real timer may end a wait up to a millisecond before
    /// the bound by the clock, when the read was not yet past its bound.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AScrapeThatGivesUpOnAHungRead_ServesStoreUpZero_AndNotThePreviousReadsFigures(bool timerEndsTheWaitEarly)
    {
        await using var services = Build(storeGauges: true, out var store, timerEndsTheWaitEarly ? new EarlyTimers(_time) : null);
        var metrics = services.GetRequiredService<ConveyorMetrics>();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var sizes = new MetricCollector<long>(factory, ConveyorMetrics.MeterName, "job_queue_size", _time);
        using var up = new MetricCollector<int>(factory, ConveyorMetrics.MeterName, "job_store_up", _time);
        await services.GetRequiredService<IJobClient>().EnqueueAsync("test:gauge", ReadOnlyMemory<byte>.Empty);
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        up.RecordObservableInstruments();
        Assert.Equal(1, up.LastMeasurement!.Value);

        // The next read's store call blocks before it hands back its (never answered) task, so the read's own bound
        // starts after the scrape's wait: the scrape gives up while the read is still in flight.
        using var handOver = new ManualResetEventSlim();
        store.HandOver = handOver;
        try
        {
            _time.Advance(TimeSpan.FromSeconds(15));
            var scrape = metrics.StoreGauges.RefreshAsync(CancellationToken.None);
            await store.QueueStatsRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
            _time.Advance(new ConveyorMetricsOptions().StoreTimeout - (timerEndsTheWaitEarly ? EarlyTimers.Early : TimeSpan.Zero));
            await scrape.WaitAsync(TimeSpan.FromSeconds(10));
            sizes.Clear();
            up.Clear();
            sizes.RecordObservableInstruments();
            up.RecordObservableInstruments();

            Assert.Equal(0, up.LastMeasurement!.Value);
            Assert.Empty(sizes.GetMeasurementSnapshot());
        }
        finally
        {
            handOver.Set();
        }
    }

    [Fact]
    public async Task AReadWhoseSecondCallHangs_EndsAtTheBoundOfTheWholeRead_NotOfEachCall()
    {
        await using var services = Build(storeGauges: true, out var store);
        var metrics = services.GetRequiredService<ConveyorMetrics>();
        await metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        Assert.NotNull(metrics.StoreGauges.Current);
        var timeout = new ConveyorMetricsOptions().StoreTimeout;

        // The statistics answer just before the bound, then the list of servers never answers (nor sees its token).
        var statistics = new TaskCompletionSource<IReadOnlyList<QueueStats>>(TaskCreationOptions.RunContinuationsAsynchronously);
        store.SlowQueueStats = statistics;
        store.HangServers = true;
        _time.Advance(TimeSpan.FromSeconds(15));
        var refresh = metrics.StoreGauges.RefreshAsync(CancellationToken.None);
        await store.QueueStatsRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(timeout - TimeSpan.FromMilliseconds(100));
        statistics.SetResult([]);
        await store.ServersRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(200));

        await Eventually.HoldsAsync(() => metrics.StoreGauges.Current is null, because: "the read ends at its bound and leaves the gauges out");
        await refresh.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void AnIntervalOutOfRange_StopsTheStart_NamingTheSetting()
    {
        var services = new ServiceCollection();
        services.AddConveyor(o => o.Metrics.StoreGaugesInterval = TimeSpan.Zero).UseInMemoryStore();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ConveyorOptions>>().Value);
        Assert.Contains("Conveyor:Metrics", error.Message, StringComparison.Ordinal);
    }

    private static long Pending(MetricCollector<long> sizes) =>
        sizes.GetMeasurementSnapshot().Last(m => (string?)m.Tags["queue"] == "default" && (string?)m.Tags["state"] == "pending").Value;

    private ServiceProvider Build(bool? storeGauges, out CountingStore store, TimeProvider? time = null)
    {
        var counting = CountingStore.Create(new InMemoryJobStore(_time));
        store = (CountingStore)(object)counting;
        var services = new ServiceCollection();
        services.AddSingleton(time ?? _time);
        services.AddConveyor(o =>
        {
            if (storeGauges is { } on)
            {
                o.Metrics.StoreGauges = on;
            }
        });
        services.AddSingleton(counting);
        return services.BuildServiceProvider();
    }

    /// <summary>A store that counts its statistics reads and can fail or hang them.</summary>
    public class CountingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private int _queueStatsReads;

        public volatile bool Down;

        public volatile bool Hang;

        /// <summary>When set, a statistics read blocks until it is signalled, then hands back a task that never completes.</summary>
        public volatile ManualResetEventSlim? HandOver;

        public int QueueStatsReads => Volatile.Read(ref _queueStatsReads);

        public TaskCompletionSource QueueStatsRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When set, a statistics read answers what the test puts in it, when it does.</summary>
        public volatile TaskCompletionSource<IReadOnlyList<QueueStats>>? SlowQueueStats;

        /// <summary>When true, a list of servers never answers and ignores its token.</summary>
        public volatile bool HangServers;

        public TaskCompletionSource ServersRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static IJobStore Create(IJobStore inner)
        {
            var store = Create<IJobStore, CountingStore>();
            ((CountingStore)(object)store)._inner = inner;
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.GetQueueStatsAsync))
            {
                Interlocked.Increment(ref _queueStatsReads);
                if (HandOver is { } handOver)
                {
                    QueueStatsRequested.TrySetResult();
                    Assert.True(handOver.Wait(TimeSpan.FromSeconds(30)), "the test never let the read hand over its task");
                    return new ValueTask<IReadOnlyList<QueueStats>>(new TaskCompletionSource<IReadOnlyList<QueueStats>>().Task);
                }

                if (SlowQueueStats is { } slow)
                {
                    QueueStatsRequested.TrySetResult();
                    return new ValueTask<IReadOnlyList<QueueStats>>(slow.Task);
                }

                if (Hang)
                {
                    QueueStatsRequested.TrySetResult();
                    return new ValueTask<IReadOnlyList<QueueStats>>(new TaskCompletionSource<IReadOnlyList<QueueStats>>().Task);
                }

                if (Down)
                {
                    throw new JobStoreUnavailableException("connection refused (test)");
                }
            }

            if (targetMethod.Name == nameof(IJobStore.ListServersAsync) && HangServers)
            {
                ServersRequested.TrySetResult();
                return new ValueTask<IReadOnlyList<ServerInfo>>(new TaskCompletionSource<IReadOnlyList<ServerInfo>>().Task);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
                throw;
            }
        }
    }

    /// <summary>The fake clock, with timers that fire a millisecond early, as a real timer may by the clock.</summary>
    private sealed class EarlyTimers(FakeTimeProvider inner) : TimeProvider
    {
        public static readonly TimeSpan Early = TimeSpan.FromMilliseconds(1);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime > Early ? dueTime - Early : dueTime, period);
    }
}
