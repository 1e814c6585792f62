using System.Reflection;
using Conveyor.Storage;
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
    public async Task Stop_WhileADequeueItBreaksOffFailsAsAnOutage_StillLetsTheRunningHandlerFinish()
    {
        // A dequeue the stop breaks off may fail in its own way (a broken connection), not only as cancelled.
        var (store, control) = DequeueBrokenOffByStop.Wrap(new Conveyor.Storage.InMemory.InMemoryJobStore(TimeProvider.System));
        var harness = await ServerHarness.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10), store: store);
        var result = await harness.Client.EnqueueAsync(new SlowJob(400));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the handler to start");
        control.Arm();
        await harness.Client.EnqueueAsync(new SlowJob(1));
        await Eventually.HoldsAsync(() => control.Waiting, because: "a dequeue to be in flight");

        await harness.StopAsync();

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Succeeded, job!.State);
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

/// <summary>Once armed, a dequeue waits until its token is cancelled and then fails as an outage would.</summary>
public class DequeueBrokenOffByStop : DispatchProxy
{
    private IJobStore _inner = null!;
    private volatile bool _armed;

    public bool Waiting { get; private set; }

    public static (IJobStore Store, DequeueBrokenOffByStop Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, DequeueBrokenOffByStop>();
        var control = (DequeueBrokenOffByStop)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    public void Arm() => _armed = true;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (_armed && targetMethod!.Name == nameof(IJobQueueStore.DequeueAsync))
        {
            return BrokenOffAsync((CancellationToken)args![1]!);
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

    private async ValueTask<IReadOnlyList<LeasedJob>> BrokenOffAsync(CancellationToken cancellationToken)
    {
        Waiting = true;
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        throw new JobStoreUnavailableException("The connection was broken off.");
    }
}
