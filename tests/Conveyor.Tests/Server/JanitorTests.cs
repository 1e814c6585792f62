using System.Reflection;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

public sealed class JanitorTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services;
    private readonly ConveyorMetrics _metrics;
    private readonly MetricCollector<long> _backlog;

    public JanitorTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        _metrics = new ConveyorMetrics(meterFactory);
        _backlog = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_retention_backlog");
    }

    public void Dispose()
    {
        _backlog.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Backlog_IsWhatTheRunFound_AndZeroOnceCaughtUp()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 2_500, Retention);
        _time.Advance(Retention);
        var janitor = new Janitor(store, "server-a", _metrics, Interval, _time, NullLogger.Instance);

        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2_500, _backlog.LastMeasurement!.Value);

        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, _backlog.LastMeasurement!.Value);
    }

    [Fact]
    public async Task RunsThatEndBeforeCatchingUp_GrowTheBacklog_AndWarn()
    {
        var inner = new InMemoryJobStore(_time);
        await FinishAsync(inner, 10_000, Retention);
        _time.Advance(Retention);
        // Each batch takes half an interval, so a run deletes two batches and stops behind.
        var store = SlowPurge.Wrap(inner, _time, Interval / 2);
        var logger = new FakeLogger();
        var janitor = new Janitor(store, "server-a", _metrics, Interval, _time, logger);

        var seen = new List<long>();
        for (var run = 0; run < Janitor.GrowingRunsBeforeWarning; run++)
        {
            await janitor.RunOnceAsync(CancellationToken.None);
            seen.Add(_backlog.LastMeasurement!.Value);
        }

        Assert.Equal([2_000, 4_000, 6_000], seen);
        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains("6000", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BacklogOfManyBatches_IsDeletedWithinOneInterval()
    {
        // More than the old limit of 20 batches of 1,000 a tick, so a janitor with a fixed budget falls behind.
        const int backlog = 25_000;
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, backlog, Retention);
        _time.Advance(Retention);
        using var stop = new CancellationTokenSource();
        var janitor = new Janitor(store, "server-a", _metrics, Interval, _time, NullLogger.Instance);
        var running = janitor.RunAsync(stop.Token);

        _time.Advance(Interval);

        await Eventually.HoldsAsync(async () => await CountAsync(store) == 0, TimeSpan.FromSeconds(30), "the whole backlog to be deleted in the first run");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task WhileOneServerPurges_AnotherDoesNot_UntilItsLockExpires()
    {
        var store = new InMemoryJobStore(_time);
        var first = new Janitor(store, "server-a", _metrics, Interval, _time, NullLogger.Instance);
        var second = new Janitor(store, "server-b", _metrics, Interval, _time, NullLogger.Instance);
        await first.RunOnceAsync(CancellationToken.None);
        await FinishAsync(store, 10, TimeSpan.Zero);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await second.RunOnceAsync(CancellationToken.None);
        Assert.Equal(10, await CountAsync(store));

        // server-a died: its lock lives three intervals, then server-b takes over.
        _time.Advance(Interval * 3);
        await second.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, await CountAsync(store));
    }

    private static async Task FinishAsync(IJobStore store, int count, TimeSpan retention)
    {
        for (var i = 0; i < count; i++)
        {
            await store.EnqueueAsync(new NewJob
            {
                Id = JobId.New(),
                Type = "test:run",
                Queue = QueueName.Default,
                Tenant = TenantId.Default,
                Payload = "{}"u8.ToArray(),
                MaxRetry = 0,
                Retention = retention,
            }, CancellationToken.None);
        }

        while (true)
        {
            var leased = await store.DequeueAsync(new DequeueRequest
            {
                Queues = [new QueueQuota(QueueName.Default, 1000)],
                Limit = 1000,
                ServerId = "worker",
                LeaseDuration = TimeSpan.FromMinutes(5),
            }, CancellationToken.None);
            if (leased.Count == 0)
            {
                return;
            }

            await store.AcknowledgeManyAsync(
                leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded, ItemErrors = [] }).ToList(),
                CancellationToken.None);
        }
    }

    private static async Task<long> CountAsync(IJobStore store) =>
        (await store.GetQueueStatsAsync(CancellationToken.None)).Sum(q => q.Succeeded);

    /// <summary>A store whose purge takes <c>cost</c> of the fake clock's time per call.</summary>
    public class SlowPurge : DispatchProxy
    {
        private IJobStore _inner = null!;
        private FakeTimeProvider _time = null!;
        private TimeSpan _cost;

        public static IJobStore Wrap(IJobStore inner, FakeTimeProvider time, TimeSpan cost)
        {
            var proxy = Create<IJobStore, SlowPurge>();
            var control = (SlowPurge)(object)proxy;
            (control._inner, control._time, control._cost) = (inner, time, cost);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.PurgeExpiredAsync))
            {
                _time.Advance(_cost);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
