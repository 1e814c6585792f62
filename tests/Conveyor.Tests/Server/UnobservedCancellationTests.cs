using System.Collections.Concurrent;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Server;

/// <summary>
/// A handler that ignores its token cannot be stopped in .NET; what it does after its time was up must still not decide
/// the job's outcome, and the server must not run it twice at once.
/// </summary>
public sealed class UnobservedCancellationTests
{
    [Fact]
    public async Task AHandlerThatReturnsNormallyAfterItsTimeout_FailsTheAttempt()
    {
        await using var harness = await StartAsync();
        var gate = harness.Services.GetRequiredService<StubbornGate>();

        var result = await harness.Client.EnqueueAsync(new StubbornJob(), new JobOptions { Timeout = TimeSpan.FromMilliseconds(100), MaxRetry = 0 });
        await Eventually.HoldsAsync(() => gate.TokenCancelled.Contains(result.JobId));
        gate.Release();
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Contains("timed out", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHandlerThatReturnsNormallyAfterItsDeadline_FailsTheJob()
    {
        await using var harness = await StartAsync();
        var gate = harness.Services.GetRequiredService<StubbornGate>();

        // Far enough for the job to start before it under a loaded test run (a deadline passed before the start fails the job unrun).
        var result = await harness.Client.EnqueueAsync(new StubbornJob(), new JobOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(2), MaxRetry = 5 });
        await Eventually.HoldsAsync(() => gate.Started.Contains(result.JobId));
        await Eventually.HoldsAsync(() => gate.TokenCancelled.Contains(result.JobId));
        gate.Release();
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(1, job.Attempts);
        Assert.Contains("deadline", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHandlerThatReturnsNormallyAfterACancelRequest_EndsCancelled()
    {
        await using var harness = await StartAsync();
        var gate = harness.Services.GetRequiredService<StubbornGate>();

        var result = await harness.Client.EnqueueAsync(new StubbornJob());
        await Eventually.HoldsAsync(() => gate.Started.Contains(result.JobId));
        await harness.Store.CancelAsync(TenantId.Default, result.JobId, CancellationToken.None);
        await Eventually.HoldsAsync(() => gate.TokenCancelled.Contains(result.JobId));
        gate.Release();

        await harness.WaitForStateAsync(result.JobId, JobState.Cancelled);
    }

    [Fact]
    public async Task AtShutdown_AHandlerThatIgnoresItsToken_HasItsJobReturnedToTheQueue_TheAttemptNotCounted()
    {
        var inner = new InMemoryJobStore(TimeProvider.System);
        var gate = new StubbornGate();
        var harness = await StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100), inner, gate);
        try
        {
            var result = await harness.Client.EnqueueAsync(new StubbornJob());
            await Eventually.HoldsAsync(() => gate.Started.Contains(result.JobId));

            await harness.StopAsync();

            var job = await inner.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
            Assert.Equal(JobState.Pending, job!.State);
            Assert.Equal(0, job.Attempts);
        }
        finally
        {
            gate.Release();
            await harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task AStoreAwayLongerThanALease_CancelsTheHandler_AndTheJobRunsAgainAfterIt_NotBesideIt()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        var gate = new StubbornGate(observeToken: true);
        await using var harness = await StartAsync(o => o.LeaseDuration = TimeSpan.FromMilliseconds(600), store, gate);

        var result = await harness.Client.EnqueueAsync(new StubbornJob(), new JobOptions { MaxRetry = 5 });
        await Eventually.HoldsAsync(() => gate.Started.Contains(result.JobId));
        control.Available = false;
        await Eventually.HoldsAsync(() => gate.TokenCancelled.Contains(result.JobId));
        control.Available = true;
        gate.Release();

        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
        Assert.Equal(2, job.Attempts);
        Assert.Equal(1, gate.MostAtOnce);
    }

    [Fact]
    public async Task ALeaseExtensionThatNeverAnswers_StillStopsTheHandlerWhenItsLeaseExpires()
    {
        // A partition or a failover's queued commands: the extender's call hangs, so the check cannot wait for it.
        var store = HangingLeaseStore.Wrap(new InMemoryJobStore(TimeProvider.System), out var control);
        var gate = new StubbornGate(observeToken: true);
        await using var harness = await StartAsync(o => o.LeaseDuration = TimeSpan.FromMilliseconds(600), store, gate);

        var result = await harness.Client.EnqueueAsync(new StubbornJob(), new JobOptions { MaxRetry = 5 });
        await Eventually.HoldsAsync(() => gate.Started.Contains(result.JobId));
        control.Hang = true;

        await Eventually.HoldsAsync(() => gate.TokenCancelled.Contains(result.JobId));
        control.Hang = false;
        gate.Release();
    }

    [Fact]
    public void ANewerLeaseOfAHeldJob_StopsTheRunUnderTheOlderLease()
    {
        var held = new HeldJobs();
        var stale = new RunningJob(LeasedJobs.Create("job_1", leaseToken: 1));
        var fresh = new RunningJob(LeasedJobs.Create("job_1", leaseToken: 2));

        held.Add(stale);
        held.Add(fresh);

        Assert.Equal(StopReason.LeaseLost, stale.Reason);
        Assert.True(stale.Token.IsCancellationRequested);
        Assert.Equal(StopReason.None, fresh.Reason);
        Assert.False(held.Remove("job_1", leaseToken: 1));
        Assert.True(held.TryGet("job_1", out var kept) && ReferenceEquals(kept, fresh));
    }

    [Fact]
    public void ALostLease_OverridesAnEarlierStopReason()
    {
        var run = new RunningJob(LeasedJobs.Create("job_1", leaseToken: 1));

        run.Stop(StopReason.Timeout);
        run.Stop(StopReason.LeaseLost);

        Assert.Equal(StopReason.LeaseLost, run.Reason);
    }

    private static Task<ServerHarness> StartAsync(Action<JobServerOptions>? configure = null, IJobStore? store = null, StubbornGate? gate = null) =>
        ServerHarness.StartAsync(
            configure,
            conveyor => conveyor.AddHandler<StubbornHandler>(),
            services => services.AddSingleton(gate ?? new StubbornGate()),
            store);
}

/// <summary>Wraps a store; while <see cref="Hang"/> is set, a lease extension never answers.</summary>
public class HangingLeaseStore : System.Reflection.DispatchProxy
{
    private IJobStore _inner = null!;

    public volatile bool Hang;

    public static IJobStore Wrap(IJobStore inner, out HangingLeaseStore control)
    {
        var proxy = Create<IJobStore, HangingLeaseStore>();
        control = (HangingLeaseStore)(object)proxy;
        control._inner = inner;
        return proxy;
    }

    private static async ValueTask<LeaseExtension> NeverAnswersAsync(CancellationToken cancellationToken)
    {
        // Until the server gives up on the call at its stop.
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new OperationCanceledException(cancellationToken);
    }

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
    {
        if (Hang && targetMethod!.Name == nameof(IJobStore.ExtendLeasesAsync))
        {
            return NeverAnswersAsync((CancellationToken)args![1]!);
        }

        try
        {
            return targetMethod!.Invoke(_inner, args);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

internal sealed record StubbornJob : IJobPayload
{
    public static string JobType => "test:stubborn";
}

/// <summary>Holds every <see cref="StubbornHandler"/> until released, its token ignored unless told to observe it; records what it saw.</summary>
internal sealed class StubbornGate(bool observeToken = false)
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _mostAtOnce;

    public bool ObserveToken => observeToken;

    public ConcurrentQueue<string> Started { get; } = new();

    public ConcurrentQueue<string> TokenCancelled { get; } = new();

    public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

    public Task Released => _released.Task;

    public void Release() => _released.TrySetResult();

    public void Enter()
    {
        var running = Interlocked.Increment(ref _running);
        int most;
        while (running > (most = Volatile.Read(ref _mostAtOnce)) && Interlocked.CompareExchange(ref _mostAtOnce, running, most) != most)
        {
        }
    }

    public void Leave() => Interlocked.Decrement(ref _running);
}

internal sealed class StubbornHandler(StubbornGate gate) : IJobHandler<StubbornJob>
{
    public async Task HandleAsync(StubbornJob payload, JobContext context, CancellationToken cancellationToken)
    {
        gate.Enter();
        try
        {
            gate.Started.Enqueue(context.JobId);
            if (gate.ObserveToken)
            {
                try
                {
                    await gate.Released.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    gate.TokenCancelled.Enqueue(context.JobId);
                    throw;
                }
            }
            else
            {
                using var registration = cancellationToken.Register(() => gate.TokenCancelled.Enqueue(context.JobId));
                await gate.Released;
            }
        }
        finally
        {
            gate.Leave();
        }
    }
}
