using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>Signals between processes: wake-ups of idle workers and cancellation of running jobs, through Redis pub/sub.</summary>
public sealed class RedisSignalTests
{
    [RedisFact]
    public async Task WaitForJobs_EnqueueFromAnotherProcess_WakesWithinMilliseconds()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var otherProcess = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!);
        await using var worker = await RedisTestEnvironment.CreateStoreAsync(TimeProvider.System, prefix);
        await using var client = new RedisJobStore(otherProcess, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
        await worker.InitializeAsync(CancellationToken.None);
        await client.InitializeAsync(CancellationToken.None);
        Assert.Empty(await worker.DequeueAsync(Request(), CancellationToken.None));

        var waiting = worker.WaitForJobsAsync(TimeSpan.FromSeconds(30), CancellationToken.None).AsTask();
        await client.EnqueueAsync(RedisKeyLayoutTests.NewJob("default"), CancellationToken.None);

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Single(await worker.DequeueAsync(Request(), CancellationToken.None));
    }

    [RedisFact]
    public async Task WaitForJobs_OwnPublishedWakeUp_IsIgnoredAfterTheDequeueThatTookTheJob()
    {
        var time = new FakeTimeProvider();
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var store = await RedisTestEnvironment.CreateStoreAsync(time, prefix);
        await using var probe = await RedisTestEnvironment.CreateStoreAsync(TimeProvider.System, prefix);
        await store.InitializeAsync(CancellationToken.None);
        await probe.InitializeAsync(CancellationToken.None);
        var probeWoken = probe.WaitForJobsAsync(TimeSpan.FromSeconds(30), CancellationToken.None).AsTask();

        await store.EnqueueAsync(RedisKeyLayoutTests.NewJob("default"), CancellationToken.None);
        Assert.Single(await store.DequeueAsync(Request(), CancellationToken.None));
        var waiting = store.WaitForJobsAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        // The probe shares the connection: once it has the published wake-up, so has the store, which must ignore its own.
        Assert.True(await probeWoken.WaitAsync(TimeSpan.FromSeconds(5)));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [RedisFact]
    public async Task SubscribeToCancellations_CancelFromAnotherProcess_ReachesTheWorkerWithinASecond()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var otherProcess = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!);
        await using var worker = await RedisTestEnvironment.CreateStoreAsync(TimeProvider.System, prefix);
        await using var api = new RedisJobStore(otherProcess, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
        await worker.InitializeAsync(CancellationToken.None);
        await api.InitializeAsync(CancellationToken.None);
        var job = RedisKeyLayoutTests.NewJob("default");
        await api.EnqueueAsync(job, CancellationToken.None);
        var leased = Assert.Single(await worker.DequeueAsync(Request(), CancellationToken.None));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = ((IJobCancellationSignal)worker).SubscribeToCancellations(id => received.TrySetResult(id));

        Assert.Equal(JobCommandResult.Requested, await api.CancelAsync(TenantId.Default, job.Id, CancellationToken.None));

        Assert.Equal(job.Id, await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        var extension = await worker.ExtendLeasesAsync(new ExtendLeasesRequest { ServerId = "s", Leases = [new LeaseRef(leased.Id, leased.LeaseToken)], LeaseDuration = TimeSpan.FromSeconds(30) }, CancellationToken.None);
        Assert.Equal([job.Id], extension.CancelRequested);
    }

    [RedisFact]
    public async Task SubscribeToCancellations_Disposed_StopsCalling()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        var calls = 0;
        var subscription = store.SubscribeToCancellations(_ => Interlocked.Increment(ref calls));
        subscription.Dispose();
        var job = RedisKeyLayoutTests.NewJob("default");
        await store.EnqueueAsync(job, CancellationToken.None);
        await store.DequeueAsync(Request(), CancellationToken.None);
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var probe = store.SubscribeToCancellations(_ => seen.TrySetResult());

        await store.CancelAsync(TenantId.Default, job.Id, CancellationToken.None);

        await seen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    private static DequeueRequest Request() =>
        new() { Queues = [new QueueQuota("default", 10)], Limit = 10, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };
}
