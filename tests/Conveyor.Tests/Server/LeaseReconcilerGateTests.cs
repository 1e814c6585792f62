using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Conveyor.Tests.Server.LostLeaseReplyTests;

namespace Conveyor.Tests.Server;

/// <summary>
/// The gate a listing of this server's leases closes (LeaseReconciler): lease-taking calls wait for the listing, so a
/// busy server's listings are not spoiled by the calls in flight beside them, and the gate never stays closed for long.
/// </summary>
public sealed class LeaseReconcilerGateTests
{
    [Fact]
    public async Task DequeueReplyLost_UnderASteadyBacklog_TheJobsItLeasedRunOnceAndSucceed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (busy, busyControl) = BusyStore.Wrap(new InMemoryJobStore(time));
        var (store, control) = LostReplyStore.Wrap(busy);
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureServices: s => s.AddSingleton<TimeProvider>(time),
            start: false);
        for (var i = 0; i < 40; i++)
        {
            await harness.Client.EnqueueAsync(new EchoJob($"backlog {i}"), new JobOptions { MaxRetry = 0 });
        }

        // The first dequeue is applied and its reply lost; the store is still away when the server first looks, and by
        // the next look the fetcher dequeues back to back again, its backlog never shrinking.
        control.LoseNextDequeueReply();
        busyControl.FailNextListing();
        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => control.LostReplies == 1, because: "the dequeue to be applied and its reply lost");

        // Time runs past the lease: left to expire, each lease would be recovered with its only attempt spent, the job failed.
        foreach (var jobId in LostJobIds(control))
        {
            var job = await FinishedAsync(store, time, jobId);
            Assert.True(
                (job.State, job.Attempts) == (JobState.Succeeded, 1),
                $"Job {jobId} is {job.State} after {job.Attempts} attempt(s) ({busyControl.Listings} listings): {string.Join("; ", job.Errors.Select(static e => e.Message))}");
            Assert.Equal(1, harness.Recorder.StartedCount(jobId));
        }
    }

    [Fact]
    public async Task ACallStartingWhileAListingRuns_WaitsAtTheGate_AndTheListingCounts()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = ListingHook.Wrap(new InMemoryJobStore(time), async _ =>
        {
            listed.TrySetResult();
            await answer.Task;
        });
        var reconciler = Failed(Reconciler(store, new HeldJobs(), time));

        var listing = reconciler.RunOnceAsync(CancellationToken.None);
        await listed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(reconciler.TryCallStarting());
        var call = reconciler.CallStartingAsync(CancellationToken.None);
        Assert.False(call.IsCompleted);

        answer.SetResult();
        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await listing);
        await call.WaitAsync(TimeSpan.FromSeconds(10));
        reconciler.CallEnded(failed: false);
    }

    [Fact]
    public async Task AListingThatFails_OpensTheGate()
    {
        var store = ListingHook.Wrap(new InMemoryJobStore(TimeProvider.System), _ => throw new JobStoreUnavailableException("the test store is down"));
        var reconciler = Failed(Reconciler(store, new HeldJobs()));

        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => reconciler.RunOnceAsync(CancellationToken.None));

        Assert.True(reconciler.TryCallStarting());
        Assert.True(reconciler.Due);
    }

    [Fact]
    public async Task AListingTheStoreNeverAnswers_OpensTheGateAtItsLimit_EvenIfTheStoreIgnoresTheToken()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = ListingHook.Wrap(new InMemoryJobStore(time), _ =>
        {
            listed.TrySetResult();
            return new TaskCompletionSource().Task;
        });
        var reconciler = Failed(Reconciler(store, new HeldJobs(), time));

        _ = reconciler.RunOnceAsync(CancellationToken.None);
        await listed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var call = reconciler.CallStartingAsync(CancellationToken.None);
        time.Advance(GateLimit - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await call.WaitAsync(TimeSpan.FromSeconds(10));
        reconciler.CallEnded(failed: false);
        Assert.True(reconciler.TryCallStarting());
    }

    [Fact]
    public async Task AListingTheStoreAnswersTooLate_IsCutOffAtTheGatesLimit()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = ListingHook.Wrap(new InMemoryJobStore(time), token => Task.Delay(Timeout.Infinite, token));
        var reconciler = Failed(Reconciler(store, new HeldJobs(), time));

        var listing = reconciler.RunOnceAsync(CancellationToken.None);
        time.Advance(GateLimit);

        Assert.Equal(LeaseReconciler.Outcome.CutOff, await listing.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(reconciler.TryCallStarting());
        Assert.True(reconciler.Due);
    }

    [Fact]
    public async Task ACallInFlightThatOutlastsTheGatesLimit_CutsTheListingOff_ItsLeaseNotHandedBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, listings) = ListingHook.Counting(new InMemoryJobStore(time));
        await LeasedJobs.EnqueueAsync(store);
        var reconciler = Failed(Reconciler(store, new HeldJobs(), time));
        Assert.True(reconciler.TryCallStarting());
        var inFlight = Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));

        var listing = reconciler.RunOnceAsync(CancellationToken.None);
        time.Advance(GateLimit);

        Assert.Equal(LeaseReconciler.Outcome.CutOff, await listing.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, listings());
        await AssertStillLeasedAsync(store, inFlight);
        Assert.True(reconciler.TryCallStarting());
    }

    [Fact]
    public async Task WaitingAtTheGate_EndsWithTheCallersToken_AndTheCallIsNotCounted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var store = ListingHook.Wrap(new InMemoryJobStore(time), async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                listed.TrySetResult();
                await answer.Task;
            }
        });
        var reconciler = Failed(Reconciler(store, new HeldJobs(), time));
        var listing = reconciler.RunOnceAsync(CancellationToken.None);
        await listed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var stopping = new CancellationTokenSource();
        var call = reconciler.CallStartingAsync(stopping.Token);
        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, reconciler.CallsAtGate);

        // Not counted in flight: the next listing has no call to wait for.
        answer.SetResult();
        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await listing);
        Assert.Equal(LeaseReconciler.Outcome.NothingToHandBack, await reconciler.RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Stop_WhileADequeueWaitsAtTheClosedGate_EndsWithoutWaitingForTheGate_AndItsListingHandsTheLostJobsBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (lostReply, control) = LostReplyStore.Wrap(new InMemoryJobStore(time));
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listings = 0;

        // The first listing gets no answer until its token ends (a store away); the shutdown's listing is answered.
        var store = ListingHook.Wrap(lostReply, async token =>
        {
            if (Interlocked.Increment(ref listings) == 1)
            {
                listed.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
            }
        });
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureServer: o => o.LeaseDuration = TimeSpan.FromSeconds(60),
            configureServices: s => s.AddSingleton<TimeProvider>(time),
            start: false);
        var gateLimit = TimeSpan.FromSeconds(60) / 10;
        await harness.Client.EnqueueAsync(new EchoJob("its dequeue's reply is lost"), new JobOptions { MaxRetry = 0 });
        control.LoseNextDequeueReply();
        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => control.LostReplies == 1, because: "the dequeue to be applied and its reply lost");
        await listed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Past the fetcher's backoff, well short of the gate's limit: its next dequeue waits at the gate. Time moves in
        // steps: one step taken before the fetcher set its backoff's timer would leave that timer waiting for ever.
        var closedAt = time.GetUtcNow();
        var reconciler = harness.Server.LeaseReconciler!;
        await Eventually.HoldsAsync(() =>
        {
            if (reconciler.CallsAtGate == 0)
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
            }

            return reconciler.CallsAtGate == 1;
        }, because: "the fetcher's dequeue to wait at the gate");

        // Time runs on in small steps while the server stops; the stop must not need the gate's limit.
        var stop = harness.StopAsync();
        await Eventually.HoldsAsync(() =>
        {
            if (!stop.IsCompleted)
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
            }

            return stop.IsCompleted;
        }, because: "the server to stop");
        await stop;
        Assert.True(time.GetUtcNow() - closedAt < gateLimit, $"The stop took {time.GetUtcNow() - closedAt} of the server's time.");

        // The shutdown's own listing ran, and handed the lost job back: pending, its attempt not counted.
        foreach (var jobId in LostJobIds(control))
        {
            var job = await lostReply.GetAsync(TenantId.Default, jobId, CancellationToken.None);
            Assert.Equal((JobState.Pending, 0), (job!.State, job.Attempts));
        }
    }

    private static LeaseReconciler Failed(LeaseReconciler reconciler)
    {
        Assert.True(reconciler.TryCallStarting());
        reconciler.CallEnded(failed: true);
        return reconciler;
    }

    private static List<string> LostJobIds(LostReplyStore control)
    {
        lock (control.Lost)
        {
            Assert.NotEmpty(control.Lost);
            return [.. control.Lost.Select(static j => j.Id)];
        }
    }
}
