using System.Collections.Concurrent;
using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Idempotency;

internal sealed record ChargeCard(string OrderId, int Cents) : IJobPayload, IIdempotentJob
{
    public static string JobType => "payment:charge";

    public string IdempotencyKey => $"order-{OrderId}";
}

internal sealed record ShipOrder(string OrderId) : IJobPayload, IIdempotentJob
{
    public static string JobType => "order:ship";

    public string IdempotencyKey => OrderId;
}

/// <summary>What the charge handlers did: every start, every effect, and the switches a test turns.</summary>
internal sealed class ChargeLedger
{
    public ConcurrentQueue<string> Started { get; } = new();

    public ConcurrentDictionary<string, int> Effects { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, handlers wait for it before their effect (a handler still running).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>How many of the next attempts throw before their effect.</summary>
    public int FailNext;

    public int EffectsOf(string orderId) => Effects.GetValueOrDefault(orderId);
}

internal sealed class ChargeCardHandler(ChargeLedger ledger) : IJobHandler<ChargeCard>
{
    public async Task HandleAsync(ChargeCard payload, JobContext context, CancellationToken cancellationToken)
    {
        ledger.Started.Enqueue(context.JobId);
        if (ledger.Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Interlocked.Decrement(ref ledger.FailNext) >= 0)
        {
            throw new InvalidOperationException("the card network timed out");
        }

        ledger.Effects.AddOrUpdate(payload.OrderId, 1, static (_, n) => n + 1);
    }
}

[Idempotent(FailureMode = IdempotencyFailureMode.FailClosed, KeepDoneForHours = 1)]
internal sealed class ShipOrderHandler(ChargeLedger ledger) : IJobHandler<ShipOrder>
{
    public async Task HandleAsync(ShipOrder payload, JobContext context, CancellationToken cancellationToken)
    {
        ledger.Started.Enqueue(context.JobId);
        if (ledger.Gate is { } gate)
        {
            // Deliberately deaf to its token: the work finishes even if the attempt is stopped meanwhile.
            await gate.Task;
        }

        ledger.Effects.AddOrUpdate(payload.OrderId, 1, static (_, n) => n + 1);
    }
}

/// <summary>Wraps a store and counts its calls; while <see cref="IdempotencyDown"/> is set, only its idempotency operations throw <see cref="JobStoreUnavailableException"/>.</summary>
public class IdempotencyOutageStore : DispatchProxy
{
    private IJobStore _inner = null!;

    public bool IdempotencyDown { get; set; }

    /// <summary>How many times each store operation was called, by method name.</summary>
    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    public static (IJobStore Store, IdempotencyOutageStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, IdempotencyOutageStore>();
        var control = (IdempotencyOutageStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.AddOrUpdate(targetMethod!.Name, 1, static (_, n) => n + 1);
        if (IdempotencyDown && targetMethod!.Name.Contains("IdempotencyKey", StringComparison.Ordinal))
        {
            throw new JobStoreUnavailableException("the idempotency records cannot be reached");
        }

        try
        {
            return targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

/// <summary>
/// A worker's processing path without its loops, on the in-memory store and a fake clock: dequeue one job, run it
/// through the real pipeline (<see cref="Processor"/>), store its acknowledgement. Attempts can be left running.
/// </summary>
internal sealed class IdempotencyHarness : IAsyncDisposable
{
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(4);

    private readonly ServiceProvider _services;

    private IdempotencyHarness(ServiceProvider services, FakeTimeProvider time, IdempotencyOutageStore? outage)
    {
        _services = services;
        Time = time;
        Outage = outage;
    }

    public FakeTimeProvider Time { get; }

    public IdempotencyOutageStore? Outage { get; }

    public IServiceProvider Services => _services;

    public IJobStore Store => _services.GetRequiredService<IJobStore>();

    public ChargeLedger Ledger => _services.GetRequiredService<ChargeLedger>();

    public HeldJobs Held { get; } = new();

    public static IdempotencyHarness Create(bool withOutageSwitch = false, Action<IServiceCollection>? configure = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<ChargeLedger>();
        services.AddLogging();
        configure?.Invoke(services);
        IdempotencyOutageStore? outage = null;
        var conveyor = services.AddConveyor();
        if (withOutageSwitch)
        {
            var (store, control) = IdempotencyOutageStore.Wrap(new InMemoryJobStore(time));
            services.AddSingleton(store);
            outage = control;
        }
        else
        {
            conveyor.UseInMemoryStore();
        }

        conveyor.AddHandler<ChargeCardHandler>().AddHandler<ShipOrderHandler>().AddServer(o => o.LeaseDuration = LeaseDuration);
        return new IdempotencyHarness(services.BuildServiceProvider(), time, outage);
    }

    public async Task<string> EnqueueAsync<TPayload>(TPayload payload, string tenant = TenantId.Default, int maxRetry = 3)
        where TPayload : IJobPayload
    {
        var client = _services.GetRequiredService<IJobClient>();
        return (await client.EnqueueAsync(payload, new JobOptions { Tenant = tenant, MaxRetry = maxRetry })).JobId;
    }

    /// <summary>Leases the next job, as a worker would.</summary>
    public async Task<RunningJob> LeaseAsync()
    {
        var jobs = await Store.DequeueAsync(
            new DequeueRequest { Queues = [new QueueQuota(QueueName.Default, 1)], Limit = 1, ServerId = "server-1", LeaseDuration = LeaseDuration },
            CancellationToken.None);
        var run = new RunningJob(Assert.Single(jobs));
        Held.Add(run);
        return run;
    }

    /// <summary>Runs a leased job through the pipeline and stores its acknowledgement.</summary>
    public async Task<JobAcknowledgement> FinishAsync(RunningJob run)
    {
        var ack = await _services.GetRequiredService<Processor>().ProcessAsync(run, CancellationToken.None);
        Assert.NotNull(ack);
        await Store.AcknowledgeManyAsync([ack], CancellationToken.None);
        Held.Remove(run.Job.Id, run.Job.LeaseToken);
        return ack;
    }

    public async Task<JobAcknowledgement> RunNextAsync() => await FinishAsync(await LeaseAsync());

    public async Task<JobInfo> GetAsync(string jobId, string tenant = TenantId.Default) =>
        await Store.GetAsync(tenant, jobId, CancellationToken.None) ?? throw new InvalidOperationException($"{jobId} is missing");

    public LeaseExtender CreateLeaseExtender() =>
        new(Store, Held, "server-1", LeaseDuration, Time, _services.GetRequiredService<ILogger<IdempotencyHarness>>());

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
