using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A store that answers reads and refuses writes (a full disk, Redis at maxmemory, PostgreSQL in recovery) keeps
/// <c>job_store_up</c> at 1: <c>job_store_unavailable_total</c> is what shows it, one count for every call that failed as
/// unavailable, by operation, where the logs say it once per outage or once per backoff.
/// </summary>
public sealed class StoreUnavailableMetricsTests : IDisposable
{
    private const string Counter = "job_store_unavailable_total";

    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    public static TheoryData<string, string> Components => new()
    {
        { "Promoter", "promoter" },
        { "LeaseExtender", "lease_extender" },
        { "ServerHeartbeat", "server_heartbeat" },
    };

    [Theory]
    [MemberData(nameof(Components))]
    public async Task APeriodicComponent_CountsEveryFailedTick_NotOnlyTheFirstOfTheOutage(string component, string operation)
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(_time));
        var held = new HeldJobs();
        held.Add(new RunningJob(Assert.Single(await LeasedJobs.EnqueueAndLeaseAsync(store, 1))) { Started = true });
        var metrics = new ConveyorMetrics(MeterFactory);
        using var counted = new MetricCollector<long>(MeterFactory, ConveyorMetrics.MeterName, Counter);
        PeriodicComponent ticking = component switch
        {
            "Promoter" => new Promoter(store, new JobReadySignal(), new PromotionAlarm(), TimeSpan.FromSeconds(1), _time, NullLogger.Instance) { Metrics = metrics },
            "LeaseExtender" => new LeaseExtender(store, held, "server", TimeSpan.FromMinutes(5), _time, NullLogger.Instance) { Metrics = metrics },
            _ => new ServerHeartbeat(store, Describe, _time, NullLogger.Instance) { Metrics = metrics },
        };

        await ticking.TickAsync(CancellationToken.None);
        Assert.Equal(0, Sum(counted, operation));
        control.Available = false;
        for (var i = 0; i < 3; i++)
        {
            await ticking.TickAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, Sum(counted, operation));
        control.Available = true;
        await ticking.TickAsync(CancellationToken.None);
        Assert.Equal(3, Sum(counted, operation));
        Assert.All(counted.GetMeasurementSnapshot(), m => Assert.Equal(operation, m.Tags["operation"]));
    }

    [Fact]
    public async Task AnAcknowledgementRefusedAsUnavailable_IsCountedAsAcknowledge_OncePerCall()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        var leased = Assert.Single(await LeasedJobs.EnqueueAndLeaseAsync(store, 1));
        var held = new HeldJobs();
        held.Add(new RunningJob(leased) { Started = true, HandlerReturned = true });
        using var counted = new MetricCollector<long>(MeterFactory, ConveyorMetrics.MeterName, Counter);
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, TimeProvider.System, NullLogger.Instance,
            metrics: new ConveyorMetrics(MeterFactory));
        var running = batcher.RunAsync(CancellationToken.None);
        control.Available = false;

        batcher.Add(new JobAcknowledgement { JobId = leased.Id, LeaseToken = leased.LeaseToken, Outcome = AckOutcome.Succeeded });
        await Eventually.HoldsAsync(() => Volatile.Read(ref control.FailedCalls) >= 2, because: "the acknowledgement to be refused and tried again");
        control.Available = true;
        await Eventually.HoldsAsync(() => held.Count == 0, because: "the acknowledgement to be stored once the store takes writes");
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Volatile.Read(ref control.FailedCalls), Sum(counted, StoreOperations.Acknowledge));
        Assert.All(counted.GetMeasurementSnapshot(), m => Assert.Equal(StoreOperations.Acknowledge, m.Tags["operation"]));
    }

    [Fact]
    public async Task AServerWhoseStoreRefusesCalls_CountsItsDequeuesAndComponents_FromSeriesCreatedAtZero()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        await using var harness = await ServerHarness.StartAsync(store: store, start: false);
        var meterFactory = harness.Services.GetRequiredService<IMeterFactory>();
        using var counted = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, Counter);
        await harness.StartHostAsync();

        // Before any failure, every operation of the server is there at 0, for increase() to count the first one.
        Assert.All(StoreOperations.Server, operation => Assert.Contains(counted.GetMeasurementSnapshot(), m => Equals(m.Tags["operation"], operation) && m.Value == 0));
        control.Available = false;
        await Eventually.HoldsAsync(() => Sum(counted, StoreOperations.Dequeue) >= 2 && Sum(counted, "promoter") >= 2,
            because: "the fetcher's dequeues and the promoter's ticks to be counted as they fail");
        control.Available = true;

        Assert.True(Sum(counted, StoreOperations.Dequeue) <= Volatile.Read(ref control.FailedDequeues));
    }

    private ServerInfo Describe() => new()
    {
        Id = "server",
        Host = "host",
        ProcessId = 1,
        Queues = new Dictionary<string, int> { ["default"] = 1 },
        Concurrency = 1,
        ActiveJobs = 0,
        StartedAt = _time.GetUtcNow(),
        LastHeartbeatAt = _time.GetUtcNow(),
        ExpiresAt = _time.GetUtcNow() + ServerHeartbeat.Expiry,
    };

    private static long Sum(MetricCollector<long> collector, string operation) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["operation"], operation)).Sum(static m => m.Value);
}
