using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

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
    public async Task AStoreWaitThatThrowsAtTheCall_IsAFailedWait_AndTheServerKeepsRunningJobs()
    {
        var (store, control) = CountingStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        control.FailNextWaitsAtTheCall(3);
        await using var server = await ServerHarness.StartAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(50), store: store);
        await using var producer = await ServerHarness.StartAsync(store: store, start: false);

        var job = await producer.Client.EnqueueAsync(new EchoJob("after the failed waits"));

        await server.WaitForStateAsync(job.JobId, JobState.Succeeded);
        Assert.Equal(3, control.FailedWaits);
    }

    /// <summary>
    /// A queue paced by its rate limit until a turn far away, beside queues whose dequeue carries a concurrency limit
    /// (which may stop short with jobs left, so its short count alone never means "drained"): a dequeue of those queues
    /// that took nothing waits for the next signal, as any empty dequeue does. It once went straight to the next
    /// dequeue, and the fetcher spun against the store until the paced queue's turn.
    /// </summary>
    [Fact]
    public async Task WhileAQueueIsPaced_AnEmptyDequeueOfTheOtherLimitedQueues_WaitsForTheNextSignal()
    {
        var (store, dequeues) = CountingStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        await using var server = await ServerHarness.StartAsync(
            o => o.PollInterval = NoPoll,
            configureServices: s => s.Configure<ConveyorOptions>(o =>
            {
                o.Limits.Rate["paced"] = new() { Queue = QueueName.Default, Limit = 1, Period = TimeSpan.FromHours(1) };
                o.Limits.Concurrency["low"] = new() { Queue = QueueName.Low, Max = 1 };
            }),
            store: store);
        // One starts; the two others are handed back to the queue, which is now paced for an hour.
        await PacedQueue.EnqueueUntilPacedAsync(server, store);
        var before = dequeues.Calls;
        var other = await server.Client.EnqueueAsync(new EchoJob("low"), new JobOptions { Queue = QueueName.Low });
        await server.WaitForStateAsync(other.JobId, JobState.Succeeded);

        // The job on the other queue woke a dequeue or two; a spinning fetcher made hundreds meanwhile.
        var made = dequeues.Calls - before;
        Assert.True(made <= 5, $"{made} dequeues while the queue was paced");
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

    [Fact]
    public async Task ReadySignal_AWaitCancelledOrTimedOut_AnswersFalseWithoutThrowing_AndASignalAfterItWakesTheNextWait()
    {
        // The fetcher cancels the wait that lost its race at every wake-up: an exception each time was a few hundred a
        // second on a server at 100 jobs/s.
        var time = new FakeTimeProvider();
        var signal = new JobReadySignal();
        using var cancellation = new CancellationTokenSource();
        var cancelled = signal.WaitAsync(TimeSpan.FromMinutes(1), time, cancellation.Token);
        var timedOut = signal.WaitAsync(TimeSpan.FromSeconds(1), time, CancellationToken.None);

        await cancellation.CancelAsync();
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await cancelled);
        Assert.True(cancelled.IsCompletedSuccessfully);
        Assert.False(await timedOut);
        Assert.True(timedOut.IsCompletedSuccessfully);
        signal.Set();
        Assert.True(await signal.WaitAsync(TimeSpan.FromMinutes(1), time, CancellationToken.None));
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

        /// <summary>The next <paramref name="count"/> waits for jobs throw at the call, not in the task they return.</summary>
        public void FailNextWaitsAtTheCall(int count) => Volatile.Write(ref _failingWaits, count);

        public int FailedWaits => Volatile.Read(ref _failedWaits);

        private int _failingWaits;
        private int _failedWaits;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobQueueStore.DequeueAsync))
            {
                Interlocked.Increment(ref _calls);
                return DequeueAsync((DequeueRequest)args![0]!, (CancellationToken)args[1]!);
            }

            if (targetMethod.Name == nameof(IJobQueueStore.WaitForJobsAsync) && Interlocked.Decrement(ref _failingWaits) >= 0)
            {
                Interlocked.Increment(ref _failedWaits);
                throw new JobStoreUnavailableException("counting: the store's wait failed at the call");
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
