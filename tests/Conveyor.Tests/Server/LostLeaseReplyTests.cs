using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A call that leases jobs applied by the store but whose answer was lost (LeaseReconciler): the jobs run, their
/// attempt not counted, instead of waiting out their lease and failing without having run.
/// </summary>
public sealed class LostLeaseReplyTests
{
    private const string ServerId = "server-1";

    [Fact]
    public async Task DequeueAppliedButItsReplyLost_AJobWithoutRetries_RunsOnceAndSucceeds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, control) = LostReplyStore.Wrap(new InMemoryJobStore(time));
        var logs = new FakeLogCollector();
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureServices: s => s.AddSingleton<TimeProvider>(time).AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs)),
            start: false);
        var enqueued = await harness.Client.EnqueueAsync(new EchoJob("its dequeue's reply is lost"), new JobOptions { MaxRetry = 0 });
        control.LoseNextDequeueReply();

        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => control.LostReplies == 1, because: "the dequeue to be applied and its reply lost");

        // Time runs past the lease: left to expire, the lease would be recovered with its only attempt spent, the job failed.
        var job = await FinishedAsync(store, time, enqueued.JobId);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Equal(1, harness.Recorder.StartedCount(enqueued.JobId));
        // The hand-back is logged once the store took it, which may be after the job ran.
        await Eventually.HoldsAsync(
            () => logs.GetSnapshot().Any(r => r.Id.Id == 904 && r.Message.Contains(enqueued.JobId, StringComparison.Ordinal)),
            because: "the hand-back to be logged");
    }

    [Fact]
    public async Task DequeueAnsweredInPart_AJobItsFailedPartLeased_RunsOnceAndSucceeds()
    {
        // A Redis Cluster dequeue whose queue on a frozen primary timed out returns the other queues' jobs; the frozen
        // primary runs the call when it resumes, leasing a job to this server that no answer brings.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, control) = LostReplyStore.Wrap(new InMemoryJobStore(time));
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureServices: s => s.AddSingleton<TimeProvider>(time),
            start: false);
        var enqueued = await harness.Client.EnqueueAsync(new EchoJob("leased by the part that failed"), new JobOptions { MaxRetry = 0 });
        control.LoseNextDequeueReplyInPart();

        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => control.LostReplies == 1, because: "the dequeue to answer in part");

        var job = await FinishedAsync(store, time, enqueued.JobId);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(1, harness.Recorder.StartedCount(enqueued.JobId));
    }

    [Fact]
    public async Task AcknowledgementThatTookAReleasedJob_ReplyLost_TheReleasedJobRunsOnceAndSucceeds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, control) = LostReplyStore.Wrap(new InMemoryJobStore(time));
        await using var harness = await ServerHarness.StartAsync(store: store, configureServices: s => s.AddSingleton<TimeProvider>(time));
        var client = harness.Client;
        var member = client.CreateJob(new EchoJob("member"));
        var callback = client.CreateJob(new EchoJob("callback"), new JobOptions { MaxRetry = 0 });
        control.LoseNextTakeReleasedReply();

        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        Assert.True((await workflows.StartBatchAsync([member], new BatchOptions { OnSuccess = callback })).Created);

        var job = await FinishedAsync(store, time, callback.Id);
        Assert.Equal(1, control.LostReplies);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(1, harness.Recorder.StartedCount(callback.Id));
    }

    [Fact]
    public async Task ADequeueInFlight_WhenAListingIsDue_IsWaitedFor_AndNotHandedBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryJobStore(time);
        var held = new HeldJobs();
        var reconciler = Reconciler(store, held, time);
        await LeasedJobs.EnqueueAsync(store);

        // A dequeue failed, then another is sent: the store has leased its job, whose reply has not arrived yet.
        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: true);
        Assert.True(reconciler.TryCallStarting());
        var inFlight = Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));

        // The listing closes the gate and waits for the call in flight before it reads the store.
        var listing = reconciler.RunOnceAsync(CancellationToken.None);
        Assert.False(listing.IsCompleted);
        Assert.False(reconciler.TryCallStarting());
        await AssertStillLeasedAsync(store, inFlight);

        // Its reply arrives: the job is held, and the listing that now runs knows its lease.
        held.Add(new RunningJob(inFlight));
        reconciler.CallEnded(failed: false);
        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await listing);
        await AssertStillLeasedAsync(store, inFlight);
        Assert.True(reconciler.TryCallStarting());
    }

    [Fact]
    public async Task ADequeueSentOnceTheGateOpenedAtItsLimit_WhileTheListingRuns_IsNotHandedBack_AndTheListingIsCutOff()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var inner = new InMemoryJobStore(time);
        await LeasedJobs.EnqueueAsync(inner);
        var held = new HeldJobs();
        LeaseReconciler reconciler = null!;
        LeasedJob? inFlight = null;

        // The store is slow to answer the listing, past the gate's limit: the gate opens, a dequeue is sent and leases its
        // job, then the listing's answer arrives all the same (a store that does not heed the token), with that lease.
        var store = ListingHook.Wrap(inner, async _ =>
        {
            time.Advance(GateLimit);
            Assert.True(reconciler.TryCallStarting());
            inFlight = Assert.Single(await inner.DequeueAsync(Request(), CancellationToken.None));
        }, heedsToken: false);
        reconciler = Reconciler(store, held, time);
        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: true);

        // Cut off, as a listing the store gave up at the limit: tried again a third of a lease later, not at once.
        Assert.Equal(LeaseReconciler.Outcome.CutOff, await reconciler.RunOnceAsync(CancellationToken.None));
        await AssertStillLeasedAsync(inner, inFlight!);
    }

    [Fact]
    public async Task AtShutdown_AnAcknowledgementInFlightPastTheGatesLimit_IsWaitedFor_AndTheLostLeaseHandedBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, listings) = ListingHook.Counting(new InMemoryJobStore(time));
        await LeasedJobs.EnqueueAsync(store);
        var reconciler = Reconciler(store, new HeldJobs(), time);

        // The dequeue the stop cancelled was applied all the same: its job is leased, unknown here.
        Assert.True(reconciler.TryCallStarting());
        var lost = Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));
        reconciler.CallEnded(failed: true);

        // An acknowledgement that takes released jobs, sent before the stop, is still in flight past the gate's limit:
        // nothing waits at the gate any more, so the shutdown's listing waits for it within its own budget.
        Assert.True(reconciler.TryCallStarting());
        using var budget = new CancellationTokenSource();
        var shutdown = reconciler.RunAtShutdownAsync(budget.Token);
        time.Advance(GateLimit * 3);
        Assert.Equal(0, listings());
        reconciler.CallEnded(failed: false);
        await shutdown.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, listings());
        var job = await store.GetAsync(TenantId.Default, lost.Id, CancellationToken.None);
        Assert.Equal((JobState.Pending, 0), (job!.State, job.Attempts));
    }

    [Fact]
    public async Task ALeaseThisServerLetLapse_IsNotHandedBack_ItsAttemptCountsAsItExpires()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        var held = new HeldJobs();
        var reconciler = Reconciler(store, held);
        await LeasedJobs.EnqueueAsync(store);
        var leased = Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));
        held.Add(new RunningJob(leased));
        Assert.True(held.LetLapse(leased.Id, leased.LeaseToken));

        // Let lapse again (its run stopped past its lease, then its worker found nothing to record): still known.
        Assert.False(held.LetLapse(leased.Id, leased.LeaseToken));

        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: true);

        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await reconciler.RunOnceAsync(CancellationToken.None));
        await AssertStillLeasedAsync(store, leased);
    }

    [Fact]
    public async Task NoCallFailed_NothingIsAskedOfTheStore()
    {
        var (store, calls) = ListingHook.Counting(new InMemoryJobStore(TimeProvider.System));
        var reconciler = Reconciler(store, new HeldJobs());
        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: false);

        Assert.Equal(LeaseReconciler.Outcome.NotDue, await reconciler.RunOnceAsync(CancellationToken.None));
        Assert.Equal(0, calls());
    }

    [Fact]
    public async Task ListingsGoOn_UntilOneBegunASettleTimeAfterTheFailureFindsNothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryJobStore(time);
        var reconciler = Reconciler(store, new HeldJobs(), time);
        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: true);

        // Nothing yet, but the store may still apply the lost call.
        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await reconciler.RunOnceAsync(CancellationToken.None));
        Assert.True(reconciler.Due);

        // Applied late: the next listing finds it and hands it back.
        await LeasedJobs.EnqueueAsync(store);
        var late = Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));
        time.Advance(Settle);
        Assert.Equal(LeaseReconciler.Outcome.HandedBack, await reconciler.RunOnceAsync(CancellationToken.None));
        var job = await store.GetAsync(TenantId.Default, late.Id, CancellationToken.None);
        Assert.Equal((JobState.Pending, 0), (job!.State, job.Attempts));
        Assert.True(reconciler.Due);

        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await reconciler.RunOnceAsync(CancellationToken.None));
        Assert.False(reconciler.Due);
    }

    internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(4);

    internal static readonly TimeSpan GateLimit = Settle / 10;

    internal static LeaseReconciler Reconciler(IJobStore store, HeldJobs held, TimeProvider? time = null) =>
        new(store, held, new JobReadySignal(), ServerId, Settle / 3, Settle, GateLimit, time ?? TimeProvider.System, NullLogger.Instance);

    internal static DequeueRequest Request() => new()
    {
        Queues = [new QueueQuota(QueueName.Default, 1)],
        Limit = 1,
        ServerId = ServerId,
        LeaseDuration = TimeSpan.FromMinutes(5),
    };

    internal static async Task AssertStillLeasedAsync(IJobStore store, LeasedJob job) =>
        Assert.Contains(new LeaseRef(job.Id, job.LeaseToken), await store.ListLeasesAsync(ServerId, CancellationToken.None));

    /// <summary>Moves time on until the job is finished, and returns it.</summary>
    internal static async Task<JobInfo> FinishedAsync(IJobStore store, FakeTimeProvider time, string jobId)
    {
        JobInfo? job = null;
        await Eventually.HoldsAsync(async () =>
        {
            job = await store.GetAsync(TenantId.Default, jobId, CancellationToken.None);
            if (job?.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled)
            {
                return true;
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
            return false;
        }, because: "the job to finish");
        return job!;
    }

    /// <summary>
    /// Wraps a store: runs a hook before each listing of leases (given the listing's token), or counts the listings. A
    /// store that does not heed the token (<c>heedsToken: false</c>) answers the listing even once it is cancelled.
    /// </summary>
    public class ListingHook : DispatchProxy
    {
        private IJobStore _inner = null!;
        private Func<CancellationToken, Task>? _before;
        private bool _heedsToken = true;
        private int _listings;

        internal static IJobStore Wrap(IJobStore inner, Func<CancellationToken, Task> before, bool heedsToken = true)
        {
            var proxy = Create<IJobStore, ListingHook>();
            var control = (ListingHook)(object)proxy;
            (control._inner, control._before, control._heedsToken) = (inner, before, heedsToken);
            return proxy;
        }

        internal static (IJobStore Store, Func<int> Listings) Counting(IJobStore inner)
        {
            var proxy = Create<IJobStore, ListingHook>();
            var control = (ListingHook)(object)proxy;
            control._inner = inner;
            return (proxy, () => Volatile.Read(ref control._listings));
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobQueueStore.ListLeasesAsync))
            {
                Interlocked.Increment(ref _listings);
                return ListAsync((string)args![0]!, (CancellationToken)args[1]!);
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

        private async ValueTask<IReadOnlyList<LeaseRef>> ListAsync(string serverId, CancellationToken cancellationToken)
        {
            if (_before is not null)
            {
                await _before(cancellationToken);
            }

            return await _inner.ListLeasesAsync(serverId, _heedsToken ? cancellationToken : CancellationToken.None);
        }
    }
}
