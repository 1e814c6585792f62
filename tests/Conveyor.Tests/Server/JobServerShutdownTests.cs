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
        var running = TimeProvider.System.GetUtcNow();

        await harness.StopAsync();

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, job!.State);
        Assert.Equal(0, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
        // Its handler ran (AttemptRan): it waits from the hand-back, not from its enqueue, so the time it ran is no queue
        // wait and the queue's latency does not read a deploy as a backlog.
        Assert.True(Assert.Single(await harness.Store.GetQueueStatsAsync(CancellationToken.None)).OldestPendingSince > running);
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

    [Fact]
    public async Task Stop_WhenTheStoreNeverAnswersTheRemoval_EndsAllTheSame()
    {
        // A store behind a partition that keeps sockets open: the call does not end, even once its token is cancelled.
        var (store, control) = RemovalNeverAnswered.Wrap(new Conveyor.Storage.InMemory.InMemoryJobStore(TimeProvider.System));
        var harness = await ServerHarness.StartAsync(store: store);

        var stopping = harness.Server.StopAsync(CancellationToken.None);

        await Eventually.HoldsAsync(() => control.Called, because: "the removal to be asked for");
        await Eventually.HoldsAsync(() => stopping.IsCompleted, timeout: TimeSpan.FromSeconds(30), because: "the stop to end without the store's answer");
        await stopping;
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

/// <summary>A removal of the server's entry that never ends, whatever its token says.</summary>
public class RemovalNeverAnswered : DispatchProxy
{
    private IJobStore _inner = null!;

    public bool Called { get; private set; }

    public static (IJobStore Store, RemovalNeverAnswered Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, RemovalNeverAnswered>();
        var control = (RemovalNeverAnswered)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobCoordinationStore.RemoveServerAsync))
        {
            Called = true;
            return new ValueTask(new TaskCompletionSource().Task);
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
