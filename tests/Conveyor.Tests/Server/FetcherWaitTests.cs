using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

/// <summary>
/// When an idle server's fetcher dequeues again: after a dequeue that took fewer jobs than it had slots for, it waits
/// for the next signal (a plain dequeue leaves a slot free only when the served queues are empty), and a signal that
/// came before a dequeue began does not send another after it.
/// </summary>
public sealed class FetcherWaitTests
{
    // Long enough that a job left for the poll would not start within any test's deadline.
    private static readonly TimeSpan NoPoll = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task DequeueTakingFewerThanItsSlots_WaitsForTheNextSignal_InsteadOfDequeuingAgain()
    {
        var (store, dequeues) = CountingStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        await using var server = await ServerHarness.StartAsync(o => o.PollInterval = NoPoll, store: store);
        await using var producer = await ServerHarness.StartAsync(store: store, start: false);
        var first = await producer.Client.EnqueueAsync(new EchoJob("first"));
        await server.WaitForStateAsync(first.JobId, JobState.Succeeded);

        var before = dequeues.Calls;
        for (var i = 0; i < 5; i++)
        {
            var job = await producer.Client.EnqueueAsync(new EchoJob($"job {i}"));
            await server.WaitForStateAsync(job.JobId, JobState.Succeeded);
        }

        // One dequeue per job, each taking one job of the four slots; before, each was followed by one that found nothing.
        Assert.Equal(5, dequeues.Calls - before);
    }

    [Fact]
    public async Task JobMadeReadyWhileADequeueTakingFewerThanItsSlotsRan_StartsWithoutWaitingForThePoll()
    {
        var (store, dequeues) = CountingStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        await using var server = await ServerHarness.StartAsync(o => o.PollInterval = NoPoll, store: store);
        await using var producer = await ServerHarness.StartAsync(store: store, start: false);
        var warmUp = await producer.Client.EnqueueAsync(new EchoJob("warm-up"));
        await server.WaitForStateAsync(warmUp.JobId, JobState.Succeeded);

        // The next dequeue that takes a job is held after it took it, while another job is enqueued.
        dequeues.HoldNextTaking();
        var first = await producer.Client.EnqueueAsync(new EchoJob("first"));
        await dequeues.Holding.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await producer.Client.EnqueueAsync(new EchoJob("second"));
        dequeues.Release();

        await server.WaitForStateAsync(first.JobId, JobState.Succeeded);
        await server.WaitForStateAsync(second.JobId, JobState.Succeeded);
    }

    [Fact]
    public async Task ReadySignal_GivenBeforeADequeueStarted_DoesNotWakeTheWaitAfterIt()
    {
        var signal = new JobReadySignal();
        signal.Set();
        signal.DequeueStarting();

        Assert.False(await signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task ReadySignal_GivenWhileADequeueRan_WakesTheWaitAfterIt()
    {
        var signal = new JobReadySignal();
        signal.DequeueStarting();
        signal.Set();

        Assert.True(await signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, CancellationToken.None));
    }

    /// <summary>Counts the dequeues of a store and can hold one that took jobs until <see cref="Release"/>.</summary>
    public class CountingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private int _calls;
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public int Calls => Volatile.Read(ref _calls);

        private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the held dequeue has taken its jobs.</summary>
        public Task Holding => _holding.Task;

        public static (IJobStore Store, CountingStore Control) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, CountingStore>();
            var control = (CountingStore)(object)proxy;
            control._inner = inner;
            return (proxy, control);
        }

        /// <summary>The next dequeue that takes jobs (once) waits for <see cref="Release"/> before it returns them.</summary>
        public void HoldNextTaking() => Volatile.Write(ref _armed, 1);

        public void Release() => _gate.TrySetResult();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobQueueStore.DequeueAsync))
            {
                Interlocked.Increment(ref _calls);
                return DequeueAsync((DequeueRequest)args![0]!, (CancellationToken)args[1]!);
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

        private async ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken)
        {
            var jobs = await _inner.DequeueAsync(request, cancellationToken);
            if (jobs.Count > 0 && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                _holding.TrySetResult();
                await _gate.Task;
            }

            return jobs;
        }
    }
}
