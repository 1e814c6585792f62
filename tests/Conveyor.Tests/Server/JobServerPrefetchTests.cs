using Conveyor.Server;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

public sealed class JobServerPrefetchTests
{
    [Fact]
    public void HandlerPace_IsNotShort_UntilEnoughHandlersFinished_AndFollowsTheAverage()
    {
        var pace = new HandlerPace();
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
    public async Task ShortHandlers_GetJobsLeasedAheadOfThem_UpToPrefetch()
    {
        await using var harness = await ServerHarness.StartAsync(o =>
        {
            o.Concurrency = 1;
            o.Prefetch = 3;
            o.ShutdownTimeout = TimeSpan.Zero;
        });
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
    public async Task Shutdown_HandsBackJobsLeasedAhead_AtOnce_WhileTheRunningJobHasItsGrace()
    {
        var harness = await ServerHarness.StartAsync(o =>
        {
            o.Concurrency = 1;
            o.Prefetch = 3;
            o.ShutdownTimeout = TimeSpan.FromSeconds(2);
        });
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
        await stopping;
    }

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
