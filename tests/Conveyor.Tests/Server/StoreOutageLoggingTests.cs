using System.Diagnostics.Metrics;
using System.Reflection;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A store restart is an outage the background components ride out: one warning when it begins, one information line
/// when the store answers again, and no error at every tick in between.
/// </summary>
public sealed class StoreOutageLoggingTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    public static TheoryData<string> Components => new("Recoverer", "Promoter");

    private PeriodicComponent Create(string name, UnreliableStoreHandle store) => name switch
    {
        "Recoverer" => new Recoverer(store.Store, new JobReadySignal(), new ConveyorMetrics(_services.GetRequiredService<IMeterFactory>()),
            TimeSpan.FromSeconds(1), _time, _logger),
        _ => new Promoter(store.Store, new JobReadySignal(), new PromotionAlarm(), TimeSpan.FromSeconds(1), _time, _logger),
    };

    [Theory]
    [MemberData(nameof(Components))]
    public async Task StoreUnavailable_ForManyTicks_IsOneWarningAndNoError(string name)
    {
        var store = UnreliableStoreHandle.Create(_time);
        var component = Create(name, store);
        store.Control.Available = false;

        for (var i = 0; i < 5; i++)
        {
            await component.TickAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(5, store.Control.FailedCalls);
        var record = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains(name, record.Message, StringComparison.Ordinal);
        Assert.IsType<JobStoreUnavailableException>(record.Exception);
    }

    [Theory]
    [MemberData(nameof(Components))]
    public async Task StoreBack_IsOneInformationLineWithTheOutagesLength_AndANewOutageWarnsAgain(string name)
    {
        var store = UnreliableStoreHandle.Create(_time);
        var component = Create(name, store);
        store.Control.Available = false;
        await component.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        await component.TickAsync(CancellationToken.None);
        store.Control.Available = true;

        await component.TickAsync(CancellationToken.None);
        await component.TickAsync(CancellationToken.None);

        var records = _logger.Collector.GetSnapshot();
        Assert.Equal([LogLevel.Warning, LogLevel.Information], records.Select(static r => r.Level));
        Assert.Contains("3.0 s", records[1].Message, StringComparison.Ordinal);

        store.Control.Available = false;
        await component.TickAsync(CancellationToken.None);

        Assert.Equal(LogLevel.Warning, _logger.LatestRecord.Level);
        Assert.Equal(3, _logger.Collector.Count);
    }

    [Fact]
    public async Task ALeaseExtenderHoldingNoLease_DoesNotSayTheStoreIsBack_WhileItIsStillAway()
    {
        var (store, control, held, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var extender = new LeaseExtender(store, held, "server", TimeSpan.FromMinutes(5), _time, _logger);
        control.Available = false;
        await extender.TickAsync(CancellationToken.None);

        // The job's acknowledgement is stored elsewhere in the meantime: the next tick has no lease to ask the store about.
        Assert.True(held.Remove(jobId, held.Leases().Single().LeaseToken));
        await extender.TickAsync(CancellationToken.None);

        Assert.Equal([LogLevel.Warning], _logger.Collector.GetSnapshot().Select(static r => r.Level));
    }

    [Fact]
    public async Task AnyOtherFailure_IsStillAnErrorEveryTick()
    {
        var component = new Promoter(BrokenStore.Create(), new JobReadySignal(), new PromotionAlarm(), TimeSpan.FromSeconds(1), _time, _logger);

        await component.TickAsync(CancellationToken.None);
        await component.TickAsync(CancellationToken.None);

        Assert.Equal([LogLevel.Error, LogLevel.Error], _logger.Collector.GetSnapshot().Select(static r => r.Level));
    }

    [Fact]
    public async Task AfterAnOutageLongerThanALease_TheRecovererRenewsItsServersLeasesFirst_AndRecoversNoneOfThem()
    {
        var (store, control, held, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));

        await OutageLongerThanTheLeaseAsync(RecovererRenewing(store, held), control);

        var job = await store.GetAsync(TenantId.Default, jobId, CancellationToken.None);
        Assert.Equal((JobState.Active, 1), (job!.State, job.Attempts));
        Assert.Empty(job.Errors);
    }

    /// <summary>
    /// A store that refuses some calls and takes others (a full Redis whose memory comes and goes at its limit): the
    /// renewals failed while the recoverer's calls went through, so the recoverer saw no outage and recovered the
    /// leases its server could not renew (a black-box run: jobs whose handlers had succeeded ran a second time).
    /// </summary>
    [Fact]
    public async Task WhileOnlyTheRenewalsFailedAsUnavailable_TheRecovererRenewsItsServersLeasesFirst_AndRecoversNoneOfThem()
    {
        var (store, control, held, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var extender = new LeaseExtender(store, held, "server", TimeSpan.FromMinutes(5), _time, _logger);
        var recoverer = new Recoverer(store, new JobReadySignal(), new ConveyorMetrics(_services.GetRequiredService<IMeterFactory>()),
            TimeSpan.FromSeconds(1), _time, _logger, extender);
        control.Available = false;
        await extender.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(10));
        control.Available = true;

        await recoverer.TickAsync(CancellationToken.None);

        var job = await store.GetAsync(TenantId.Default, jobId, CancellationToken.None);
        Assert.Equal((JobState.Active, 1), (job!.State, job.Attempts));
        Assert.Empty(job.Errors);
    }

    [Fact]
    public async Task AfterAnOutage_ARenewalThatFailsForAnotherReason_IsLogged_AndExpiredLeasesAreRecoveredAnyway()
    {
        var (store, control, held, jobId) = await HeldJobAsync(RenewalBrokenStore.Create(new InMemoryJobStore(_time)));

        await OutageLongerThanTheLeaseAsync(RecovererRenewing(store, held), control);

        Assert.Equal(JobState.Failed, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 98 && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task AfterAnOutageLongerThanALease_TheRecovererLeavesOtherServersJobsForALease_SoTheirHoldersAcknowledgeFirst()
    {
        // Another server holds the job, its handler returned; this server's recoverer holds nothing.
        var (store, control, otherServer, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var leaseToken = otherServer.Leases().Single().LeaseToken;
        var recoverer = RecovererPausingAfterOutages(store);

        await OutageLongerThanTheLeaseAsync(recoverer, control);
        _time.Advance(Pause - TimeSpan.FromMilliseconds(1));
        await recoverer.TickAsync(CancellationToken.None);
        Assert.Equal(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);

        // The holder writes its result, as its server does within moments of the store's return.
        Assert.Equal(1, await store.AcknowledgeManyAsync([new JobAcknowledgement { JobId = jobId, LeaseToken = leaseToken, Outcome = AckOutcome.Succeeded }], CancellationToken.None));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await recoverer.TickAsync(CancellationToken.None);

        var job = await store.GetAsync(TenantId.Default, jobId, CancellationToken.None);
        Assert.Equal((JobState.Succeeded, 1), (job!.State, job.Attempts));
        Assert.Empty(job.Errors);
        Assert.Equal([LogLevel.Warning, LogLevel.Information], _logger.Collector.GetSnapshot().Select(static r => r.Level));
    }

    [Fact]
    public async Task AfterAnOutageLongerThanALease_ADeadServersJob_IsRecoveredOnceThePauseIsOver()
    {
        var (store, control, _, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var recoverer = RecovererPausingAfterOutages(store);

        await OutageLongerThanTheLeaseAsync(recoverer, control);
        _time.Advance(Pause);
        await recoverer.TickAsync(CancellationToken.None);

        Assert.NotEqual(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task AfterABlipOfOneTick_TheRecovererDoesNotPause()
    {
        var (store, control, _, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var recoverer = RecovererPausingAfterOutages(store);
        _time.Advance(TimeSpan.FromMinutes(10));

        // One failed tick, one interval long: too short for a live lease to run out, so nothing to wait for.
        control.Available = false;
        await recoverer.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        control.Available = true;
        await recoverer.TickAsync(CancellationToken.None);

        Assert.NotEqual(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task AnotherOutageDuringThePause_StartsThePauseAgain()
    {
        var (store, control, _, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        var recoverer = RecovererPausingAfterOutages(store);
        await OutageLongerThanTheLeaseAsync(recoverer, control);

        // Two seconds into the pause the store goes away again for two; the holders' leases ran out once more.
        _time.Advance(TimeSpan.FromSeconds(2));
        control.Available = false;
        await recoverer.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        control.Available = true;
        await recoverer.TickAsync(CancellationToken.None);
        _time.Advance(Pause - TimeSpan.FromMilliseconds(1));
        await recoverer.TickAsync(CancellationToken.None);
        Assert.Equal(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await recoverer.TickAsync(CancellationToken.None);

        Assert.NotEqual(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task AServerThatWaitedForItsStoreAtStart_PausesFromItsFirstTick()
    {
        var (store, _, _, jobId) = await HeldJobAsync(new InMemoryJobStore(_time));
        _time.Advance(TimeSpan.FromMinutes(10));
        var recoverer = RecovererPausingAfterOutages(store, pausedAtStart: true);

        await recoverer.TickAsync(CancellationToken.None);
        Assert.Equal(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);

        _time.Advance(Pause);
        await recoverer.TickAsync(CancellationToken.None);
        Assert.NotEqual(JobState.Active, (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))!.State);
    }

    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(4);

    private Recoverer RecovererPausingAfterOutages(IJobStore store, bool pausedAtStart = false) =>
        new(store, new JobReadySignal(), new ConveyorMetrics(_services.GetRequiredService<IMeterFactory>()), TimeSpan.FromSeconds(1), _time, _logger,
            pauseAfterOutage: Pause, pausedAtStart: pausedAtStart);

    /// <summary>A recoverer's tick in an outage, ten minutes (twice the lease) without the store, and its first tick after.</summary>
    private async Task OutageLongerThanTheLeaseAsync(Recoverer recoverer, UnreliableStore control)
    {
        control.Available = false;
        await recoverer.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(10));
        control.Available = true;
        await recoverer.TickAsync(CancellationToken.None);
    }

    private Recoverer RecovererRenewing(IJobStore store, HeldJobs held) =>
        new(store, new JobReadySignal(), new ConveyorMetrics(_services.GetRequiredService<IMeterFactory>()), TimeSpan.FromSeconds(1), _time, _logger,
            new LeaseExtender(store, held, "server", TimeSpan.FromMinutes(5), _time, _logger));

    /// <summary>
    /// A job this server leased (five minutes) and holds, behind an <see cref="UnreliableStore"/>, its handler returned
    /// and its acknowledgement not yet written (a handler still running past its lease is stopped instead: UnobservedCancellationTests).
    /// </summary>
    private static async Task<(IJobStore Store, UnreliableStore Control, HeldJobs Held, string JobId)> HeldJobAsync(IJobStore inner)
    {
        var (store, control) = UnreliableStore.Wrap(inner);
        var leased = Assert.Single(await LeasedJobs.EnqueueAndLeaseAsync(store, 1));
        var held = new HeldJobs();
        held.Add(new RunningJob(leased) { Started = true, HandlerReturned = true });
        return (store, control, held, leased.Id);
    }

    /// <summary>A store whose lease renewal fails with a bug, not an outage; every other call goes through.</summary>
    public class RenewalBrokenStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public static IJobStore Create(IJobStore inner)
        {
            var proxy = Create<IJobStore, RenewalBrokenStore>();
            ((RenewalBrokenStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.ExtendLeasesAsync))
            {
                throw new InvalidOperationException("a bug in the store");
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

    /// <summary>An in-memory store behind the switch of <see cref="UnreliableStore"/>.</summary>
    private sealed record UnreliableStoreHandle(IJobStore Store, UnreliableStore Control)
    {
        public static UnreliableStoreHandle Create(TimeProvider time)
        {
            var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(time));
            return new UnreliableStoreHandle(store, control);
        }
    }

    /// <summary>A store whose every call fails with a bug, not an outage.</summary>
    public class BrokenStore : DispatchProxy
    {
        public static IJobStore Create() => Create<IJobStore, BrokenStore>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException("a bug in the store");
    }
}
