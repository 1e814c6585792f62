using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A concurrency slot freed on one server reaches the servers held back by the limit through the store's NOTIFY, not at
/// their next poll. Each store stands for a server process; the fake clock never moves, so a wait can only end by a signal.
/// </summary>
public sealed class PostgresLimitWakeTests : IAsyncLifetime
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private static readonly ConcurrencyLimitRule OneAtATime = new() { Queue = QueueName.Default, Max = 1 };
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task Acknowledge_JobOfAQueueAtItsLimit_WakesAnotherServerHeldBackByIt()
    {
        var (running, held, second) = await OneRunningOneHeldBackAsync();
        var wait = held.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();
        await TestWait.AssertStillRunningAsync(wait, TimeSpan.FromMilliseconds(100), "nothing freed a slot yet");

        await running.store.AcknowledgeManyAsync([TestJobs.Succeeded(running.job)], CancellationToken.None);

        Assert.True(await TestWait.CompletesAsync(wait, "the freed slot's NOTIFY did not wake the held-back server"));
        var taken = Assert.Single(await held.DequeueAsync(Limited(serverId: "server-b"), CancellationToken.None));
        Assert.Equal(second, taken.Id);
        // The acknowledging store's own fetcher is woken by its acknowledgement batcher: the echo is skipped (as the
        // enqueue's was).
        await TestWait.UntilAsync(() => running.store.Notifier.EchoesSkipped == 2);
        Assert.Equal(0, running.store.Notifier.Wakes);
    }

    [PostgresFact]
    public async Task Recover_ExpiredJobOutOfAttemptsAtTheLimit_WakesAnotherServerHeldBackByIt()
    {
        var (running, held, second) = await OneRunningOneHeldBackAsync(maxRetry: 0);
        var wait = held.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMinutes(1));

        var recovered = Assert.Single(await running.store.RecoverExpiredLeasesAsync(10, CancellationToken.None));

        Assert.Equal(JobState.Failed, recovered.NewState);
        Assert.True(await TestWait.CompletesAsync(wait, "a slot freed by recovery did not wake the held-back server"));
        Assert.Equal(second, Assert.Single(await held.DequeueAsync(Limited(serverId: "server-b"), CancellationToken.None)).Id);
    }

    [PostgresFact]
    public async Task Acknowledge_JobOfAQueueWithoutLimits_SendsNoWake()
    {
        var a = await _schema.CreateInitializedStoreAsync(_time);
        var b = await _schema.CreateInitializedStoreAsync(_time);
        await a.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        await TestWait.UntilAsync(() => b.Notifier.Wakes == 1 && a.Notifier.EchoesSkipped == 1);
        await b.WaitForJobsAsync(TimeSpan.Zero, CancellationToken.None);
        var job = Assert.Single(await a.DequeueAsync(TestJobs.Dequeue(1), CancellationToken.None));
        var wait = b.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();

        await a.AcknowledgeManyAsync([TestJobs.Succeeded(job)], CancellationToken.None);

        await TestWait.AssertStillRunningAsync(wait, TimeSpan.FromMilliseconds(200), "a finished job of an unlimited queue frees nothing to wait for");
        Assert.Equal(1, a.Notifier.EchoesSkipped);
    }

    /// <summary>
    /// Two jobs in a queue limited to one at a time: server A runs the first; server B's dequeue takes nothing, and the
    /// enqueue's wake-up is consumed, so that B's next wait ends only by a new signal.
    /// </summary>
    private async Task<((PostgresJobStore store, LeasedJob job) running, PostgresJobStore held, string second)> OneRunningOneHeldBackAsync(int maxRetry = 3)
    {
        var a = await _schema.CreateInitializedStoreAsync(_time);
        var b = await _schema.CreateInitializedStoreAsync(_time);
        var first = TestJobs.New(maxRetry: maxRetry);
        var second = TestJobs.New(maxRetry: maxRetry);
        await a.EnqueueManyAsync([first, second], CancellationToken.None);
        await TestWait.UntilAsync(() => b.Notifier.Wakes == 1 && a.Notifier.EchoesSkipped == 1);
        var job = Assert.Single(await a.DequeueAsync(Limited(serverId: "server-a"), CancellationToken.None));
        Assert.Equal(first.Id, job.Id);
        Assert.Empty(await b.DequeueAsync(Limited(serverId: "server-b"), CancellationToken.None));

        // The enqueue's wake-up came before b's dequeue began, which saw the jobs: it wakes no wait after it.
        Assert.False(await b.WaitForJobsAsync(TimeSpan.Zero, CancellationToken.None));
        return ((a, job), b, second.Id);
    }

    private static DequeueRequest Limited(string serverId) =>
        TestJobs.Dequeue(2, serverId) with { ConcurrencyLimits = [OneAtATime] };
}
