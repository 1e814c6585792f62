using Conveyor.Limits;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// How the limits in force reach a server: its configuration is the seed it writes to the store, the store's list is
/// what it applies, an API change overrides the configuration until it is deleted, and a change reaches every server
/// at its next refresh.
/// </summary>
public sealed class LimitsRefresherTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemoryJobStore _store;

    public LimitsRefresherTests() => _store = new InMemoryJobStore(_time);

    private static ConveyorOptions Configured(int max = 2) => new()
    {
        Limits =
        {
            Concurrency = { ["imports"] = new() { Queue = "imports", Partition = LimitPartition.Tenant, Max = max } },
            Rate = { ["partner"] = new() { Queue = "partner", Limit = 10, Period = TimeSpan.FromSeconds(1) } },
        },
    };

    private (LimitsInForce InForce, Conveyor.Server.LimitsRefresher Refresher) Server(ConveyorOptions options)
    {
        var inForce = new LimitsInForce(Options.Create(options));
        return (inForce, new Conveyor.Server.LimitsRefresher(_store, inForce, TimeSpan.FromSeconds(5), _time, NullLogger.Instance));
    }

    /// <summary>A server started while the store did not answer: its seed failed, and the store answers again.</summary>
    private async Task<(LimitsInForce InForce, Conveyor.Server.LimitsRefresher Refresher)> ServerWhoseSeedTheStoreDidNotAnswerAsync(ConveyorOptions options)
    {
        var (store, control) = UnreliableStore.Wrap(_store);
        var inForce = new LimitsInForce(Options.Create(options));
        var refresher = new Conveyor.Server.LimitsRefresher(store, inForce, TimeSpan.FromSeconds(5), _time, NullLogger.Instance);
        control.Available = false;
        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => refresher.SeedAsync(CancellationToken.None));
        control.Available = true;
        return (inForce, refresher);
    }

    [Fact]
    public async Task Seed_WritesTheConfiguredLimits_AsConfigurationLimits()
    {
        var (inForce, refresher) = Server(Configured());

        await refresher.SeedAsync(CancellationToken.None);

        var stored = await _store.ListLimitsAsync(CancellationToken.None);
        Assert.Equal([(LimitKind.Concurrency, "imports"), (LimitKind.Rate, "partner")], stored.Select(static l => (l.Kind, l.Name)));
        Assert.All(stored, static l => Assert.Equal(LimitSource.Configuration, l.Source));
        Assert.Equal(2, inForce.Current.Concurrency["imports"].Max);
        Assert.Equal(LimitPartition.Tenant, inForce.Current.Concurrency["imports"].Partition);
    }

    [Fact]
    public async Task Seed_ReplacesAnOlderConfiguration_ButKeepsAnApiOverride()
    {
        await Server(Configured(max: 2)).Refresher.SeedAsync(CancellationToken.None);
        await _store.PutLimitAsync(LimitDefinitions.ToRecord("partner", new RateLimit { Queue = "partner", Limit = 3, Period = TimeSpan.FromSeconds(1) }, LimitSource.Api), CancellationToken.None);

        var (inForce, refresher) = Server(Configured(max: 5));
        await refresher.SeedAsync(CancellationToken.None);

        Assert.Equal(5, inForce.Current.Concurrency["imports"].Max);
        Assert.Equal(3, inForce.Current.Rate["partner"].Limit);
    }

    // An outside run took a limit out of a server's configuration and restarted it: the limit stayed in force, silently.
    [Fact]
    public async Task Seed_OfAServerWhoseConfigurationLacksAConfiguredLimit_KeepsIt_AndSaysHowToDeleteIt()
    {
        await Server(Configured()).Refresher.SeedAsync(CancellationToken.None);
        var logs = new CapturingLoggerProvider();
        var withoutRate = new ConveyorOptions { Limits = { Concurrency = { ["imports"] = Configured().Limits.Concurrency["imports"] } } };
        var inForce = new LimitsInForce(Options.Create(withoutRate));
        var refresher = new Conveyor.Server.LimitsRefresher(_store, inForce, TimeSpan.FromSeconds(5), _time, logs.CreateLogger("test"));

        await refresher.SeedAsync(CancellationToken.None);

        Assert.Equal(10, inForce.Current.Rate["partner"].Limit);
        var warning = Assert.Single(logs.Entries, static e => e.EventId == 125);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("The rate limit 'partner' came from configuration", warning.Message, StringComparison.Ordinal);
        Assert.Contains("DELETE /limits/rate/partner", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_AppliesAChangeMadeElsewhere_AndAServerWithoutConfigurationSeesIt()
    {
        var (configured, seeder) = Server(Configured());
        await seeder.SeedAsync(CancellationToken.None);
        var (other, refresher) = Server(new ConveyorOptions());
        await refresher.SeedAsync(CancellationToken.None);
        Assert.Equal(2, other.Current.Concurrency["imports"].Max);

        await _store.PutLimitAsync(LimitDefinitions.ToRecord("imports", new ConcurrencyLimit { Queue = "imports", Max = 1 }, LimitSource.Api), CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);
        await seeder.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, other.Current.Concurrency["imports"].Max);
        Assert.Equal(1, configured.Current.Concurrency["imports"].Max);
        Assert.Equal(LimitPartition.None, configured.Current.Concurrency["imports"].Partition);
    }

    // A server started with a changed limit while the store was down kept the older limit in force until its restart.
    [Fact]
    public async Task Refresh_AfterASeedTheStoreDidNotAnswer_ReplacesTheOlderConfiguration_OnceOnly()
    {
        await Server(Configured(max: 2)).Refresher.SeedAsync(CancellationToken.None);
        var (inForce, refresher) = await ServerWhoseSeedTheStoreDidNotAnswerAsync(Configured(max: 5));
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Equal(5, inForce.Current.Concurrency["imports"].Max);
        Assert.Equal(5, (await _store.ListLimitsAsync(CancellationToken.None)).Single(static l => l.Name == "imports").Limit);

        // Seeded once: another server's configuration written since is not replaced at every tick (a rolling deploy).
        _time.Advance(TimeSpan.FromSeconds(1));
        await Server(Configured(max: 3)).Refresher.SeedAsync(CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);
        Assert.Equal(3, inForce.Current.Concurrency["imports"].Max);
    }

    [Fact]
    public async Task Refresh_AfterASeedTheStoreDidNotAnswer_KeepsTheConfigurationOfAServerStartedSince()
    {
        await Server(Configured(max: 2)).Refresher.SeedAsync(CancellationToken.None);
        var (inForce, refresher) = await ServerWhoseSeedTheStoreDidNotAnswerAsync(Configured(max: 5));

        _time.Advance(TimeSpan.FromSeconds(1));
        await Server(Configured(max: 7)).Refresher.SeedAsync(CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Equal(7, inForce.Current.Concurrency["imports"].Max);
    }

    [Fact]
    public async Task Refresh_AfterTheOverrideIsDeleted_BringsBackTheConfiguredLimit()
    {
        var (inForce, refresher) = Server(Configured(max: 2));
        await refresher.SeedAsync(CancellationToken.None);
        await _store.PutLimitAsync(LimitDefinitions.ToRecord("imports", new ConcurrencyLimit { Queue = "imports", Max = 7 }, LimitSource.Api), CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);
        Assert.Equal(7, inForce.Current.Concurrency["imports"].Max);

        await _store.DeleteLimitAsync(LimitKind.Concurrency, "imports", CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, inForce.Current.Concurrency["imports"].Max);
        Assert.Equal(LimitSource.Configuration, (await _store.ListLimitsAsync(CancellationToken.None))[0].Source);
    }

    [Fact]
    public async Task Refresh_ADeletedLimitNoConfigurationHas_IsNoLongerInForce()
    {
        var (inForce, refresher) = Server(new ConveyorOptions());
        await _store.PutLimitAsync(LimitDefinitions.ToRecord("reports", new ConcurrencyLimit { Queue = "reports", Max = 1 }, LimitSource.Api), CancellationToken.None);
        await refresher.SeedAsync(CancellationToken.None);
        Assert.True(inForce.Current.Concurrency.ContainsKey("reports"));

        await _store.DeleteLimitAsync(LimitKind.Concurrency, "reports", CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Empty(inForce.Current.Concurrency);
    }

    /// <summary>
    /// An outside run: with 100 limits added through the API, a limit configured at a server's start (or one a race of
    /// PUTs got past the API's cap), named after them, was listed as in force and never applied: 24 jobs ran at once
    /// under a limit of 2.
    /// </summary>
    [Fact]
    public async Task Seed_MoreLimitsInTheStoreThanTheCap_EveryOneApplies()
    {
        for (var i = 0; i < ConveyorLimitsOptions.MaxCount; i++)
        {
            await _store.PutLimitAsync(LimitDefinitions.ToRecord($"a{i:000}", new ConcurrencyLimit { Queue = $"q{i}", Max = 3 }, LimitSource.Api), CancellationToken.None);
            await _store.PutLimitAsync(LimitDefinitions.ToRecord($"a{i:000}", new RateLimit { Queue = $"q{i}", Limit = 3, Period = TimeSpan.FromSeconds(1) }, LimitSource.Api), CancellationToken.None);
        }

        var (inForce, refresher) = Server(new ConveyorOptions
        {
            Limits =
            {
                Concurrency = { ["zzz"] = new() { Queue = "imports", Max = 2 } },
                Rate = { ["zzz"] = new() { Queue = "partner", Limit = 2, Period = TimeSpan.FromSeconds(1) } },
            },
        });
        await refresher.SeedAsync(CancellationToken.None);

        Assert.Equal(ConveyorLimitsOptions.MaxCount + 1, inForce.Current.Concurrency.Count);
        Assert.Equal(2, inForce.Current.Concurrency["zzz"].Max);
        Assert.Equal(ConveyorLimitsOptions.MaxCount + 1, inForce.Current.Rate.Count);
        Assert.Equal(2, inForce.Current.Rate["zzz"].Limit);
    }

    [Fact]
    public async Task Refresh_AnInvalidRecordInTheStore_IsLeftOut()
    {
        var (inForce, refresher) = Server(new ConveyorOptions());
        await _store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "broken", Queue = "imports", Limit = 0, Source = LimitSource.Api }, CancellationToken.None);

        await refresher.SeedAsync(CancellationToken.None);

        Assert.Empty(inForce.Current.Concurrency);
    }

    [Fact]
    public async Task ServedLimits_FollowTheLimitsInForce_OnlyForServedQueues()
    {
        var (inForce, refresher) = Server(new ConveyorOptions());
        var served = new ServedLimits(inForce, ["imports"], _store, _time);
        Assert.Empty(served.Concurrency);
        Assert.Null(served.Rate);

        await _store.PutLimitAsync(LimitDefinitions.ToRecord("imports", new ConcurrencyLimit { Queue = "imports", Max = 1 }, LimitSource.Api), CancellationToken.None);
        await _store.PutLimitAsync(LimitDefinitions.ToRecord("elsewhere", new RateLimit { Queue = "other", Limit = 1, Period = TimeSpan.FromSeconds(1) }, LimitSource.Api), CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Equal([new ConcurrencyLimitRule { Queue = "imports", Max = 1 }], served.Concurrency);
        Assert.Null(served.Rate);
        Assert.Same(served.Concurrency, served.Concurrency);
    }

    [Fact]
    public async Task ServedLimits_ReadByManyDequeuesAtTheChange_BuildOneGate()
    {
        var (inForce, refresher) = Server(new ConveyorOptions());
        var served = new ServedLimits(inForce, ["partner"], _store, _time);
        for (var round = 0; round < 20; round++)
        {
            await _store.PutLimitAsync(LimitDefinitions.ToRecord("partner", new RateLimit { Queue = "partner", Limit = round + 1, Period = TimeSpan.FromSeconds(1) }, LimitSource.Api), CancellationToken.None);
            await refresher.RunOnceAsync(CancellationToken.None);
            using var start = new Barrier(4);

            var gates = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return served.Rate;
            })));

            Assert.All(gates, gate => Assert.Same(served.Rate, gate));
        }
    }

    [Fact]
    public async Task RunningServer_ALimitSetInTheStore_HoldsBackItsJobsAfterTheNextRefresh()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var mostAtOnce = 0;
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o => o.Concurrency = 4,
            configureConveyor: c => c.AddHandler("limit:gate", async (JobContext _, CancellationToken ct) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref mostAtOnce, now);
                try
                {
                    await release.Task.WaitAsync(ct);
                }
                finally
                {
                    Interlocked.Decrement(ref running);
                }
            }),
            configureServices: s => s.Configure<ConveyorOptions>(o => o.Limits.RefreshInterval = TimeSpan.FromSeconds(1)));

        await harness.Store.PutLimitAsync(LimitDefinitions.ToRecord("one-at-a-time", new ConcurrencyLimit { Queue = QueueName.Default, Max = 1 }, LimitSource.Api), CancellationToken.None);
        var inForce = harness.Services.GetRequiredService<LimitsInForce>();
        await Eventually.HoldsAsync(() => inForce.Current.Concurrency.ContainsKey("one-at-a-time"), because: "the server reads the store's limits every second");

        for (var i = 0; i < 3; i++)
        {
            await harness.Client.EnqueueAsync("limit:gate", "{}"u8.ToArray());
        }

        await Eventually.HoldsAsync(() => Volatile.Read(ref running) == 1, because: "one job starts");
        var queued = await harness.Store.GetQueueStatsAsync(CancellationToken.None);
        Assert.Equal(2, queued.Single(static q => q.Queue == QueueName.Default).Pending);
        release.SetResult();
        await Eventually.HoldsAsync(async () => (await harness.Store.GetQueueStatsAsync(CancellationToken.None)).Single(static q => q.Queue == QueueName.Default).Succeeded == 3);
        Assert.Equal(1, mostAtOnce);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Volatile.Read(ref target);
        }
    }
}
