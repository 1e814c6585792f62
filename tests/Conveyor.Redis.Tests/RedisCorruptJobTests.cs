using Conveyor.Storage;

namespace Conveyor.Redis.Tests;

/// <summary>A job hash damaged by hand (a field missing or malformed) fails that job, says why, and the queue keeps flowing.</summary>
public sealed class RedisCorruptJobTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisTheory]
    [InlineData("mr", null, "mr (max retry)")]
    [InlineData("a", "not-a-number", "a (attempts)")]
    [InlineData("ty", null, "ty (type)")]
    [InlineData("p", null, "p (payload)")]
    public async Task Dequeue_CorruptJob_GoesToFailedSayingWhyAndTheNextJobRuns(string field, string? value, string named)
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var corrupt = RedisKeyLayoutTests.NewJob("default");
        var healthy = RedisKeyLayoutTests.NewJob("default");
        await store.EnqueueManyAsync([corrupt, healthy], CancellationToken.None);
        var db = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        var jobKey = store.Keys.ForQueue("default").Job(corrupt.Id);
        if (value is null)
        {
            await db.HashDeleteAsync(jobKey, field);
        }
        else
        {
            await db.HashSetAsync(jobKey, field, value);
        }

        var leased = await store.DequeueAsync(new DequeueRequest { Queues = [new QueueQuota("default", 10)], Limit = 10, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) }, CancellationToken.None);

        Assert.Equal(healthy.Id, Assert.Single(leased).Id);
        var failed = await store.GetAsync(TenantId.Default, corrupt.Id, CancellationToken.None);
        Assert.NotNull(failed);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains(named, Assert.Single(failed.Errors).Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task Get_JobHashWithUnreadableStateAndErrors_IsReportedFailedSayingWhy()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var job = RedisKeyLayoutTests.NewJob("default");
        await store.EnqueueAsync(job, CancellationToken.None);
        var db = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await db.HashSetAsync(store.Keys.ForQueue("default").Job(job.Id), [new("st", "exploded"), new("err", "{not json")]);

        var read = await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(JobState.Failed, read.State);
        Assert.Contains(read.Errors, e => e.Message.Contains("state", StringComparison.Ordinal));
        Assert.Contains(read.Errors, e => e.Message.Contains("errors could not be read", StringComparison.Ordinal));
    }
}
