using System.Collections.Concurrent;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Server;

/// <summary>
/// Concurrency limits through a running server: the limits configured in <c>Conveyor:Limits</c> reach every dequeue,
/// a held-back job runs as soon as a slot frees (without waiting for the poll interval), and no attempt is counted
/// for the wait.
/// </summary>
public sealed class ConcurrencyLimitTests
{
    private const string GateType = "limit:gate";

    [Fact]
    public async Task PerTenantLimit_RunsOneJobPerTenantAtATime_AndEveryJobRunsOnce()
    {
        var gates = new Gates();
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o =>
            {
                o.Concurrency = 8;
                o.PollInterval = TimeSpan.FromSeconds(30); // a held job must start on the freed slot's signal, not a poll
            },
            configureConveyor: c => c.AddHandler(GateType, gates.RunAsync),
            configureServices: s => s.Configure<ConveyorOptions>(o =>
                o.Limits.Concurrency["imports-per-tenant"] = new() { Queue = QueueName.Default, JobType = GateType, Partition = LimitPartition.Tenant, Max = 1 }));

        var acme = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            acme.Add((await harness.Client.EnqueueAsync(GateType, "{}"u8.ToArray(), new JobOptions { Tenant = "acme" })).JobId);
        }

        var globex = (await harness.Client.EnqueueAsync(GateType, "{}"u8.ToArray(), new JobOptions { Tenant = "globex" })).JobId;

        await Eventually.HoldsAsync(() => gates.Running.ContainsKey(acme[0]) && gates.Running.ContainsKey(globex), because: "one job of each tenant starts");
        var waiting = await harness.Store.GetAsync("acme", acme[1], CancellationToken.None);
        Assert.Equal(JobState.Pending, waiting!.State);
        Assert.Equal(0, waiting.Attempts);

        for (var i = 0; i < 3; i++)
        {
            await Eventually.HoldsAsync(() => gates.Running.ContainsKey(acme[i]), because: $"acme's job {i + 1} starts once the one before it ended");
            Assert.Single(gates.Running.Keys, id => acme.Contains(id));
            gates.Release(acme[i]);
        }

        gates.Release(globex);
        foreach (var id in acme)
        {
            await Eventually.HoldsAsync(async () => (await harness.Store.GetAsync("acme", id, CancellationToken.None))!.State == JobState.Succeeded);
            Assert.Equal(1, (await harness.Store.GetAsync("acme", id, CancellationToken.None))!.Attempts);
        }

        Assert.Equal(1, gates.MostAtOnce("acme"));
    }

    // An outside run: a limited job's freed slot went to another queue's job before its end was stored (the store still
    // counted it running, so the limit looked full), and the limit's next job waited for a whole job to end.
    [Fact]
    public async Task ASlotALimitedJobFrees_GoesToTheLimitsNextJob_OnceItsEndIsStored()
    {
        var gates = new Gates();
        var (store, acknowledgements) = AcknowledgementWritersTests.GatedAcknowledgements.Wrap(new Conveyor.Storage.InMemory.InMemoryJobStore(TimeProvider.System));
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o =>
            {
                o.Concurrency = 2;
                o.Prefetch = 0;
                o.Queues = new() { ["limited"] = 10, ["other"] = 1 };
                o.StrictPriority = true; // the freed slot's dequeue asks the limited queue first, whatever the turn
                o.PollInterval = TimeSpan.FromSeconds(30);
            },
            configureConveyor: c => c.AddHandler(GateType, gates.RunAsync),
            configureServices: s => s.Configure<ConveyorOptions>(o => o.Limits.Concurrency["one-at-a-time"] = new() { Queue = "limited", Max = 1 }),
            store: store);
        var limited = new List<string>();
        var other = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            limited.Add((await harness.Client.EnqueueAsync(GateType, "{}"u8.ToArray(), new JobOptions { Queue = "limited" })).JobId);
            other.Add((await harness.Client.EnqueueAsync(GateType, "{}"u8.ToArray(), new JobOptions { Queue = "other" })).JobId);
        }

        await Eventually.HoldsAsync(() => gates.Running.ContainsKey(limited[0]) && gates.Running.ContainsKey(other[0]), because: "the limit's one job and another queue's job start");

        // Its end waits at the store's door: until it is stored, the store counts it running.
        gates.Release(limited[0]);
        await Eventually.HoldsAsync(() => !acknowledgements.Calls.IsEmpty, because: "the end's acknowledgement to be sent");
        acknowledgements.Open();

        await Eventually.HoldsAsync(() => gates.Running.ContainsKey(limited[1]), because: "the limit's next job takes the slot once the end is stored");
        Assert.Equal(new[] { limited[1], other[0] }.Order(StringComparer.Ordinal), gates.Running.Keys.Order(StringComparer.Ordinal));
        foreach (var id in limited.Concat(other))
        {
            gates.Release(id);
        }
    }

    // The review of the change above: a job that parks for a signal ends its attempt in the store without an
    // acknowledgement, and its slot waited out the second's bound (with a fake clock, for ever).
    [Fact]
    public async Task AJobThatFillsItsLimitAndParksForASignal_FreesItsSlotAtOnce()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var started = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o =>
            {
                o.Concurrency = 1;
                o.Prefetch = 0;
            },
            configureConveyor: c => c.AddHandler("limit:park", async (context, cancellationToken) =>
            {
                started.Enqueue(context.JobId);
                await context.WaitForSignalAsync("go", TimeSpan.FromHours(1), cancellationToken);
            }),
            configureServices: s =>
            {
                s.AddSingleton<TimeProvider>(time);
                s.Configure<ConveyorOptions>(o => o.Limits.Concurrency["one"] = new() { Queue = QueueName.Default, Max = 1 });
            },
            store: new Conveyor.Storage.InMemory.InMemoryJobStore(time));

        var first = await harness.Client.EnqueueAsync("limit:park", "{}"u8.ToArray());
        var second = await harness.Client.EnqueueAsync("limit:park", "{}"u8.ToArray());

        await Eventually.HoldsAsync(() => started.Count == 2, because: "the second job takes the slot the first freed by parking, the clock standing still");
        Assert.Equal([first.JobId, second.JobId], started);
    }

    [Fact]
    public void Rules_OnlyForTheQueuesTheServerServes_InNameOrder_AndNoneWithoutLimits()
    {
        var options = new ConveyorLimitsOptions
        {
            Concurrency =
            {
                ["z-reports"] = new() { Queue = "reports", JobType = "report:build", Max = 2 },
                ["imports"] = new() { Queue = "imports", Partition = LimitPartition.Tenant, Max = 1 },
                ["a-reports"] = new() { Queue = "reports", Max = 5 },
            },
        };

        var rules = Conveyor.Limits.ConcurrencyLimitRules.For(options, ["reports", "default"]);

        Assert.Equal(
            [new() { Queue = "reports", Max = 5 }, new ConcurrencyLimitRule { Queue = "reports", JobType = "report:build", Max = 2 }],
            rules);
        Assert.Empty(Conveyor.Limits.ConcurrencyLimitRules.For(options, ["default"]));
        Assert.Empty(Conveyor.Limits.ConcurrencyLimitRules.For(new ConveyorLimitsOptions(), ["reports"]));
    }

    /// <summary>Handlers that wait until the test releases them, and what ran at once per tenant.</summary>
    private sealed class Gates
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
        private readonly ConcurrentDictionary<string, int> _mostAtOnce = new();
        private readonly ConcurrentDictionary<string, int> _atOnce = new();

        public ConcurrentDictionary<string, string> Running { get; } = new();

        public async Task RunAsync(JobContext context, CancellationToken cancellationToken)
        {
            var gate = _gates.GetOrAdd(context.JobId, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            var now = _atOnce.AddOrUpdate(context.Tenant, 1, static (_, n) => n + 1);
            _mostAtOnce.AddOrUpdate(context.Tenant, now, (_, most) => Math.Max(most, now));
            Running[context.JobId] = context.Tenant;
            try
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Running.TryRemove(context.JobId, out _);
                _atOnce.AddOrUpdate(context.Tenant, 0, static (_, n) => n - 1);
            }
        }

        public void Release(string jobId) =>
            _gates.GetOrAdd(jobId, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        public int MostAtOnce(string tenant) => _mostAtOnce.GetValueOrDefault(tenant);
    }
}
