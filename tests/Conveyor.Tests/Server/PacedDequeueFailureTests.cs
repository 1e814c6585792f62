using System.Reflection;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A paced queue's dequeue goes out on its own (QueuePacing). On a Redis Cluster the paced queues may all be on a primary
/// that hangs while the other queues' primaries answer: that dequeue fails whole, and it once took the dequeue of the
/// other queues with it, so that no queue ran until the primary was back.
/// </summary>
public sealed class PacedDequeueFailureTests
{
    [Fact]
    public async Task ThePacedQueuesDequeueFailsAsUnavailable_TheOtherQueuesJobsStillRun()
    {
        // Time stands still but when the test moves it: the paced queue stays paced, and a fetcher that backs off waits
        // until a job is enqueued.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, control) = PacedFailingStore.Wrap(new InMemoryJobStore(time));
        await using var server = await ServerHarness.StartAsync(
            configureServices: s => s.AddSingleton<TimeProvider>(time)
                .Configure<ConveyorOptions>(o => o.Limits.Rate["paced"] = new() { Queue = QueueName.Default, Limit = 1, Period = TimeSpan.FromMilliseconds(200) }),
            store: store);
        // One starts at once and the others are refused: the queue is paced, and its dequeues go out on their own.
        await PacedQueue.EnqueueUntilPacedAsync(server, store);
        control.FailPacedDequeues();
        time.Advance(TimeSpan.FromMilliseconds(300));
        await Eventually.HoldsAsync(() => control.Failed > 0, because: "a dequeue of the paced queue to fail");

        var other = await server.Client.EnqueueAsync(new EchoJob("low"), new JobOptions { Queue = QueueName.Low });
        await server.WaitForStateAsync(other.JobId, JobState.Succeeded);
    }

    /// <summary>Wraps a store: once told, a dequeue of the default queue alone (the paced queue's own) fails as unavailable.</summary>
    public class PacedFailingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private int _failing;
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public static (IJobStore Store, PacedFailingStore Control) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, PacedFailingStore>();
            var control = (PacedFailingStore)(object)proxy;
            control._inner = inner;
            return (proxy, control);
        }

        public void FailPacedDequeues() => Volatile.Write(ref _failing, 1);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobQueueStore.DequeueAsync) && Volatile.Read(ref _failing) == 1
                && args![0] is DequeueRequest { Queues: [{ Queue: var queue }] } && queue == QueueName.Default)
            {
                Interlocked.Increment(ref _failed);
                return ValueTask.FromException<IReadOnlyList<LeasedJob>>(new JobStoreUnavailableException("The paced queue's node is away."));
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
}
