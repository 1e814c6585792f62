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

    private static Task FinishAsync(IJobStore store, int count, TimeSpan retention) =>
        FinishAsync(store, count, retention, QueueName.Default, AckOutcome.Succeeded);

    private static async Task FinishAsync(IJobStore store, int count, TimeSpan retention, string queue, AckOutcome outcome)
    {
        for (var i = 0; i < count; i++)
        {
            await store.EnqueueAsync(new NewJob
            {
                Id = JobId.New(),
                Type = "test:run",
                Queue = queue,
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
                Queues = [new QueueQuota(queue, 1000)],
                Limit = 1000,
                ServerId = "worker",
                LeaseDuration = TimeSpan.FromMinutes(5),
            }, CancellationToken.None);
            if (leased.Count == 0)
            {
                return;
            }

            await store.AcknowledgeManyAsync(
                leased.Select(j => new JobAcknowledgement
                {
                    JobId = j.Id,
                    LeaseToken = j.LeaseToken,
                    Outcome = outcome,
                    Error = outcome == AckOutcome.Succeeded ? null : new JobError(j.Attempt, "boom", null, null, DateTimeOffset.UnixEpoch),
                    ItemErrors = [],
                }).ToList(),
                CancellationToken.None);
        }
    }

    private static async Task<QueueStats> StatsAsync(IJobStore store, string queue) =>
        (await store.GetQueueStatsAsync(CancellationToken.None)).Single(q => q.Queue == queue);

    private Janitor CappedJanitor(IJobStore store, ConveyorRetentionOptions retention, params string[] servedQueues) =>
        new(store, "server-a", _metrics, Interval, _time, NullLogger.Instance, retention, servedQueues);

    [Fact]
    public async Task CountCap_TrimsTheServedQueuesAndThoseOfOtherLiveServers_NotOthers()
    {
        var store = new InMemoryJobStore(_time);
        foreach (var queue in new[] { "emails", "reports", "orphan" })
        {
            await FinishAsync(store, 10, TimeSpan.FromDays(1), queue, AckOutcome.Succeeded);
            await FinishAsync(store, 10, TimeSpan.FromDays(1), queue, AckOutcome.Failed);
        }

        await store.HeartbeatServerAsync(new ServerInfo
        {
            Id = "server-b",
            Host = "b",
            ProcessId = 2,
            Queues = new Dictionary<string, int> { ["reports"] = 1 },
            Concurrency = 1,
            ActiveJobs = 0,
            StartedAt = _time.GetUtcNow(),
            LastHeartbeatAt = _time.GetUtcNow(),
            ExpiresAt = _time.GetUtcNow().AddMinutes(1),
        }, CancellationToken.None);
        var janitor = CappedJanitor(store, new ConveyorRetentionOptions { MaxSucceededPerQueue = 3, MaxFailedPerQueue = 4 }, "emails");

        await janitor.RunOnceAsync(CancellationToken.None);

        foreach (var queue in new[] { "emails", "reports" })
        {
            var stats = await StatsAsync(store, queue);
            Assert.Equal((3, 4), (stats.Succeeded, stats.Failed));
        }

        var orphan = await StatsAsync(store, "orphan");
        Assert.Equal((10, 10), (orphan.Succeeded, orphan.Failed));
        Assert.Equal(2 * (7 + 6), _backlog.LastMeasurement!.Value);
    }

    [Fact]
    public async Task CountCap_OfAQueue_WinsOverTheDefault_AndANamedQueueIsTrimmedWithoutAServer()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 10, TimeSpan.FromDays(1), "emails", AckOutcome.Succeeded);
        await FinishAsync(store, 10, TimeSpan.FromDays(1), "emails", AckOutcome.Failed);
        await FinishAsync(store, 10, TimeSpan.FromDays(1), "archive", AckOutcome.Succeeded);
        var retention = new ConveyorRetentionOptions
        {
            MaxSucceededPerQueue = 5,
            Queues =
            {
                ["emails"] = new QueueRetention { MaxSucceeded = 2 },
                ["archive"] = new QueueRetention { MaxSucceeded = 1 },
            },
        };

        await CappedJanitor(store, retention, "emails").RunOnceAsync(CancellationToken.None);

        var emails = await StatsAsync(store, "emails");
        Assert.Equal((2, 10), (emails.Succeeded, emails.Failed));
        Assert.Equal(1, (await StatsAsync(store, "archive")).Succeeded);
    }

    [Fact]
    public async Task CountCap_AndAgeRetention_AJobLeavesAtWhicheverComesFirst()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 5, Retention, QueueName.Default, AckOutcome.Succeeded);
        var janitor = CappedJanitor(store, new ConveyorRetentionOptions { MaxSucceededPerQueue = 3 }, QueueName.Default);

        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(3, (await StatsAsync(store, QueueName.Default)).Succeeded);

        _time.Advance(Retention);
        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, await CountAsync(store));
    }

    [Fact]
    public async Task CountCap_BacklogOfManyBatches_IsTrimmedInOneRun_AndCountsAsTheJanitorsLag()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 2_600, TimeSpan.FromDays(1), QueueName.Default, AckOutcome.Succeeded);
        var janitor = CappedJanitor(store, new ConveyorRetentionOptions { MaxSucceededPerQueue = 100 }, QueueName.Default);

        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(100, await CountAsync(store));
        Assert.Equal(2_500, _backlog.LastMeasurement!.Value);

        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, _backlog.LastMeasurement!.Value);
    }

    [Fact]
    public async Task CountCap_RunsThatEndBeforeTrimmingEverything_GrowTheBacklog_AndWarn()
    {
        var inner = new InMemoryJobStore(_time);
        await FinishAsync(inner, 10_000, TimeSpan.FromDays(1), QueueName.Default, AckOutcome.Succeeded);
        // Each trim batch takes half an interval, so a run trims two batches and stops behind.
        var store = SlowPurge.Wrap(inner, _time, Interval / 2, nameof(IJobStore.TrimFinishedAsync));
        var logger = new FakeLogger();
        var janitor = new Janitor(store, "server-a", _metrics, Interval, _time, logger, new ConveyorRetentionOptions { MaxSucceededPerQueue = 0 }, [QueueName.Default]);

        var seen = new List<long>();
        for (var run = 0; run < Janitor.GrowingRunsBeforeWarning; run++)
        {
            await janitor.RunOnceAsync(CancellationToken.None);
            seen.Add(_backlog.LastMeasurement!.Value);
        }

        Assert.Equal([2_000, 4_000, 6_000], seen);
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task CountCap_AQueueDownToItsCap_IsLookedAtAgainAfterThePause()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 5, TimeSpan.FromDays(1), QueueName.Default, AckOutcome.Succeeded);
        var janitor = CappedJanitor(store, new ConveyorRetentionOptions { MaxSucceededPerQueue = 3 }, QueueName.Default);
        await janitor.RunOnceAsync(CancellationToken.None);
        await FinishAsync(store, 5, TimeSpan.FromDays(1), QueueName.Default, AckOutcome.Succeeded);

        _time.Advance(Janitor.TrimPause - Interval);
        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(8, await CountAsync(store));

        _time.Advance(Interval);
        await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(3, await CountAsync(store));
    }

    [Fact]
    public async Task WithoutCaps_TheJanitorNeverTrims()
    {
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, 50, TimeSpan.FromDays(1), QueueName.Default, AckOutcome.Succeeded);

        await CappedJanitor(store, new ConveyorRetentionOptions(), QueueName.Default).RunOnceAsync(CancellationToken.None);

        Assert.Equal(50, await CountAsync(store));
    }

    private static async Task<long> CountAsync(IJobStore store) =>
        (await store.GetQueueStatsAsync(CancellationToken.None)).Sum(q => q.Succeeded);

    /// <summary>A store whose purge (or another named method) takes <c>cost</c> of the fake clock's time per call.</summary>
    public class SlowPurge : DispatchProxy
    {
        private IJobStore _inner = null!;
        private FakeTimeProvider _time = null!;
        private TimeSpan _cost;
        private string _method = null!;

        public static IJobStore Wrap(IJobStore inner, FakeTimeProvider time, TimeSpan cost, string method = nameof(IJobStore.PurgeExpiredAsync))
        {
            var proxy = Create<IJobStore, SlowPurge>();
            var control = (SlowPurge)(object)proxy;
            (control._inner, control._time, control._cost, control._method) = (inner, time, cost, method);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == _method)
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
