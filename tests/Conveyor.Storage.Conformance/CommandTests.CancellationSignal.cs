using System.Collections.Concurrent;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// The optional <see cref="IJobCancellationSignal"/>: a cancel request for a running job reaches every subscriber
/// at once. A store without the ability passes these tests trivially; its servers rely on lease extension.
/// </summary>
public abstract partial class CommandTests
{
    private static readonly TimeSpan SignalDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Cancels until the subscriber hears of it: a store may start listening a moment after subscribing.</summary>
    private async Task CancelUntilHeardAsync(string id, ConcurrentQueue<string> heard) =>
        await WaitUntilAsync(
            async () =>
            {
                Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
                return heard.Contains(id);
            },
            SignalDeadline,
            $"the cancellation of {id} was not signalled");

    [Fact]
    public async Task CancellationSignal_CancelOfActiveJob_ReachesTheSubscriber()
    {
        if (Store is not IJobCancellationSignal signal)
        {
            return;
        }

        var heard = new ConcurrentQueue<string>();
        using var subscription = signal.SubscribeToCancellations(heard.Enqueue);
        var id = await CreateJobInStateAsync(JobState.Active);

        await CancelUntilHeardAsync(id, heard);
    }

    [Fact]
    public async Task CancellationSignal_CancelOfJobNotRunning_IsNotSignalled()
    {
        if (Store is not IJobCancellationSignal signal)
        {
            return;
        }

        var heard = new ConcurrentQueue<string>();
        using var subscription = signal.SubscribeToCancellations(heard.Enqueue);
        var waiting = await CreateJobInStateAsync(JobState.Pending, NewJob(queue: "waiting"));
        var running = await CreateJobInStateAsync(JobState.Active, NewJob(queue: "running"));

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, waiting, Ct));
        await CancelUntilHeardAsync(running, heard);

        Assert.DoesNotContain(waiting, heard);
    }

    [Fact]
    public async Task CancellationSignal_EverySubscriberHearsIt_UntilItDisposes()
    {
        if (Store is not IJobCancellationSignal signal)
        {
            return;
        }

        var first = new ConcurrentQueue<string>();
        var second = new ConcurrentQueue<string>();
        var firstSubscription = signal.SubscribeToCancellations(first.Enqueue);
        using var secondSubscription = signal.SubscribeToCancellations(second.Enqueue);
        var a = await CreateJobInStateAsync(JobState.Active, NewJob(queue: "a"));
        var b = await CreateJobInStateAsync(JobState.Active, NewJob(queue: "b"));

        await CancelUntilHeardAsync(a, first);
        await CancelUntilHeardAsync(a, second);
        firstSubscription.Dispose();
        await CancelUntilHeardAsync(b, second);

        Assert.DoesNotContain(b, first);
    }
}
