using Conveyor.Server;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

public sealed class JobServerPrefetchTests
{
    [Fact]
    public void HandlerPace_IsNotShort_UntilEnoughHandlersFinished_AndFollowsTheAverage()
    {
        var pace = new HandlerPace(1, TimeProvider.System);
        Assert.False(pace.IsShort);

        for (var i = 1; i < HandlerPace.MinimumSamples; i++)
        {
            pace.Record(TimeSpan.FromMilliseconds(1));
        }

        Assert.False(pace.IsShort);
        pace.Record(TimeSpan.FromMilliseconds(1));
        Assert.True(pace.IsShort);

        for (var i = 0; i < 20; i++)
        {
            pace.Record(TimeSpan.FromSeconds(1));
        }

        Assert.False(pace.IsShort);
    }

    [Fact]
    public void HandlerPace_LeasesAheadOfAWorker_OnlyWhileItsJobHasRunNoLongerThanAShortHandler()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pace = new HandlerPace(2, time);
        for (var i = 0; i < HandlerPace.MinimumSamples; i++)
        {
            pace.Record(TimeSpan.FromMilliseconds(1));
        }

        pace.Began(0, time.GetTimestamp());
        time.Advance(HandlerPace.ShortHandler);
        Assert.Equal(4, pace.LeaseAheadSlots(4));

        pace.Began(1, time.GetTimestamp());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, pace.LeaseAheadSlots(4));
        Assert.Equal(1, pace.LeaseAheadSlots(3));

        time.Advance(HandlerPace.ShortHandler);
        Assert.Equal(0, pace.LeaseAheadSlots(4));

        pace.Ended(0);
        Assert.Equal(2, pace.LeaseAheadSlots(4));
    }

    [Fact]
    public async Task ShortHandlers_GetJobsLeasedAheadOfThem_UpToPrefetch()
    {
        // Time stands still: the blocking handler has run for no time at all, so it counts as short.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await ServerHarness.StartAsync(o =>
        {
            o.Concurrency = 1;
            o.Prefetch = 3;
            o.ShutdownTimeout = TimeSpan.Zero;
        }, store: new InMemoryJobStore(time), configureServices: s => s.AddSingleton<TimeProvider>(time));
        await RunQuickJobsAsync(harness);

        var running = await StartBlockingJobAsync(harness);
        var waiting = await EnqueueEchoJobsAsync(harness, 5);

        await Eventually.HoldsAsync(() => harness.Server.HeldJobCount == 4, because: $"one running job and three leased ahead; held {harness.Server.HeldJobCount}");
        var states = await Task.WhenAll(waiting.Select(id => harness.Store.GetAsync(TenantId.Default, id, CancellationToken.None).AsTask()));
        Assert.Equal(3, states.Count(j => j!.State == JobState.Active));
        Assert.Equal(2, states.Count(j => j!.State == JobState.Pending));
        Assert.Equal(JobState.Active, (await harness.Store.GetAsync(TenantId.Default, running, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task LongHandlers_LeaseNothingAhead_SoAnotherServerRunsTheWaitingJob()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        await using var busy = await ServerHarness.StartAsync(o =>
        {
            o.Concurrency = 1;
            o.Prefetch = 3;
            o.ShutdownTimeout = TimeSpan.Zero;
        }, store: store);
        var measured = await busy.Client.EnqueueAsync(new SlowJob(Milliseconds: 100));
        await busy.WaitForStateAsync(measured.JobId, JobState.Succeeded);
        await StartBlockingJobAsync(busy);

        var waiting = await busy.Client.EnqueueAsync(new EchoJob("for whoever is free"));
        await using var idle = await ServerHarness.StartAsync(o => o.Concurrency = 1, store: store);

        await idle.WaitForStateAsync(waiting.JobId, JobState.Succeeded);
        Assert.Equal(1, busy.Server.HeldJobCount);
    }

    [Fact]
    public async Task ShortJobsThenLongOnes_NothingIsLeasedAheadOfHandlersRunningLongerThanAShortOne()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryJobStore(time);
        await using var busy = await StartOnFakeTimeAsync(store, time, concurrency: 2, prefetch: 2);
        await RunQuickJobsAsync(busy);
        await StartBlockingJobAsync(busy);
        await StartBlockingJobAsync(busy);

        // The finished handlers' average is still short; the running ones have now run longer than a short handler.
        time.Advance(HandlerPace.ShortHandler + TimeSpan.FromMilliseconds(50));
        var waiting = await EnqueueEchoJobsAsync(busy, 3);
        await using var idle = await StartOnFakeTimeAsync(store, time, concurrency: 3, prefetch: 0);

        foreach (var id in waiting)
        {
            await idle.WaitForStateAsync(id, JobState.Succeeded);
        }

        Assert.Equal(3, idle.Recorder.Started.Count);
        Assert.Equal(2, busy.Server.HeldJobCount);
    }

    [Fact]
    public async Task AJobLeasedAheadThatWaitedLongerThanAShortHandler_IsHandedBack_AndAnotherServerRunsIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryJobStore(time);
        await using var busy = await StartOnFakeTimeAsync(store, time, concurrency: 2, prefetch: 2);
        await RunQuickJobsAsync(busy);

        // Time stands still while the long jobs arrive: the running ones have run for no time yet, so two more are leased
        // ahead of them, as a wave of long jobs after short ones is.
        var jobs = new string[4];
        for (var i = 0; i < jobs.Length; i++)
        {
            jobs[i] = (await busy.Client.EnqueueAsync(new SlowJob(Milliseconds: 600_000))).JobId;
        }

        await Eventually.HoldsAsync(() => busy.Server.HeldJobCount == 4 && busy.Recorder.Started.Count(s => s.Type == SlowJob.JobType) == 2,
            because: $"two long jobs running and two leased ahead; held {busy.Server.HeldJobCount}");
        await using var idle = await StartOnFakeTimeAsync(store, time, concurrency: 2, prefetch: 0);

        time.Advance(LeasedAheadHandBack.MaxWait + TimeSpan.FromMilliseconds(1));

        await Eventually.HoldsAsync(() => idle.Recorder.Started.Count == 2, because: "the jobs leased ahead are handed back and run by the idle server");
        Assert.All(idle.Recorder.Started, s => Assert.Equal(1, s.Attempt));
        var ranHere = busy.Recorder.Started.Where(s => s.Type == SlowJob.JobType).Select(s => s.JobId);
        Assert.Equal(jobs.Order(StringComparer.Ordinal), ranHere.Concat(idle.Recorder.Started.Select(s => s.JobId)).Order(StringComparer.Ordinal));
        await Eventually.HoldsAsync(() => busy.Server.HeldJobCount == 2, because: "the handed-back jobs are no longer held");
    }

    [Fact]
    public async Task Shutdown_HandsBackJobsLeasedAhead_AtOnce_WhileTheRunningJobHasItsGrace()
    {
        // Time stands still until the check: the blocking handler counts as short, so jobs are leased ahead of it.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var harness = await ServerHarness.StartAsync(o =>
        {
            o.Concurrency = 1;
            o.Prefetch = 3;
            o.ShutdownTimeout = TimeSpan.FromSeconds(2);
        }, store: new InMemoryJobStore(time), configureServices: s => s.AddSingleton<TimeProvider>(time));
        await using var _ = harness;
        await RunQuickJobsAsync(harness);
        var running = await StartBlockingJobAsync(harness);
        var waiting = await EnqueueEchoJobsAsync(harness, 3);
        await Eventually.HoldsAsync(() => harness.Server.HeldJobCount == 4);

        var stopping = harness.StopAsync();

        await Eventually.HoldsAsync(async () =>
        {
            var handedBack = await Task.WhenAll(waiting.Select(id => harness.Store.GetAsync(TenantId.Default, id, CancellationToken.None).AsTask()));
            var stillRunning = await harness.Store.GetAsync(TenantId.Default, running, CancellationToken.None);
            return handedBack.All(j => j!.State == JobState.Pending && j.Attempts == 0) && stillRunning!.State == JobState.Active;
        }, because: "the jobs leased ahead are pending again while the running job is still within its grace period");

        // The grace period ends only as the clock moves.
        await Eventually.HoldsAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return stopping.IsCompleted;
        });
        await stopping;
    }

    private static Task<ServerHarness> StartOnFakeTimeAsync(InMemoryJobStore store, FakeTimeProvider time, int concurrency, int prefetch) =>
        ServerHarness.StartAsync(o =>
        {
            o.Concurrency = concurrency;
            o.Prefetch = prefetch;
            o.ShutdownTimeout = TimeSpan.Zero;
        }, store: store, configureServices: s => s.AddSingleton<TimeProvider>(time));

    /// <summary>Enough instant jobs for the average to forget the first ones, which include the JIT compiler's time.</summary>
    private static async Task RunQuickJobsAsync(ServerHarness harness)
    {
        foreach (var id in await EnqueueEchoJobsAsync(harness, 40))
        {
            await harness.WaitForStateAsync(id, JobState.Succeeded);
        }
    }

    private static async Task<string> StartBlockingJobAsync(ServerHarness harness)
    {
        var result = await harness.Client.EnqueueAsync(new SlowJob(Milliseconds: 600_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId));
        return result.JobId;
    }

    private static async Task<string[]> EnqueueEchoJobsAsync(ServerHarness harness, int count)
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = (await harness.Client.EnqueueAsync(new EchoJob($"job {i}"))).JobId;
        }

        return ids;
    }
}
