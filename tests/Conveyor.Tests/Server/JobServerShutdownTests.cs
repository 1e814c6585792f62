using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

public sealed class JobServerShutdownTests
{
    [Fact]
    public async Task Stop_LetsARunningHandlerFinishWithinTheGrace()
    {
        var harness = await ServerHarness.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var result = await harness.Client.EnqueueAsync(new SlowJob(400));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the handler to start");

        await harness.StopAsync();

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Succeeded, job!.State);
        Assert.Empty(harness.Recorder.Cancelled);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task Stop_AfterTheGrace_CancelsHandlers_AndReturnsTheirJobsWithoutCountingTheAttempt()
    {
        var harness = await ServerHarness.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        var result = await harness.Client.EnqueueAsync(new SlowJob(60_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the handler to start");

        await harness.StopAsync();

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, job!.State);
        Assert.Equal(0, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task Stop_RemovesTheServerFromTheStoresList()
    {
        var harness = await ServerHarness.StartAsync();
        await Eventually.HoldsAsync(async () => (await harness.Store.ListServersAsync(CancellationToken.None)).Any(s => s.Id == harness.Server.ServerId));

        await harness.StopAsync();

        Assert.DoesNotContain(await harness.Store.ListServersAsync(CancellationToken.None), s => s.Id == harness.Server.ServerId);
        await harness.DisposeAsync();
    }
}
