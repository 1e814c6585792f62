using Conveyor.Server;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>Jobs enqueued and leased at once, for tests of what a server does with leased jobs.</summary>
internal static class LeasedJobs
{
    /// <summary>A leased job that no store holds, for tests of the server's own bookkeeping.</summary>
    public static LeasedJob Create(string id, long leaseToken) => new()
    {
        Id = id,
        Type = "test:run",
        Queue = QueueName.Default,
        Tenant = TenantId.Default,
        Payload = "{}"u8.ToArray(),
        Attempt = 1,
        MaxRetry = 0,
        LeaseToken = leaseToken,
        LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(5),
        CreatedAt = DateTimeOffset.UtcNow,
        EnqueuedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>
    /// <paramref name="count"/> running jobs of <paramref name="type"/> on the default queue, leased for a minute at
    /// <paramref name="time"/>'s now, that no store holds: for the rate limit gate's and lines' tests.
    /// </summary>
    public static RunningJob[] Running(TimeProvider time, int count, string type, Func<int, string> tenant) =>
        Enumerable.Range(0, count).Select(i => new RunningJob(new LeasedJob
        {
            Id = $"job_{Guid.NewGuid():N}",
            Type = type,
            Queue = QueueName.Default,
            Tenant = tenant(i),
            Payload = ReadOnlyMemory<byte>.Empty,
            Attempt = 1,
            MaxRetry = 3,
            LeaseToken = 1,
            LeaseExpiresAt = time.GetUtcNow() + TimeSpan.FromMinutes(1),
            CreatedAt = time.GetUtcNow(),
            EnqueuedAt = time.GetUtcNow(),
        })).ToArray();

    /// <summary>Enqueues one job of type test:run, with <paramref name="maxRetry"/> retries (none by default), on the default queue.</summary>
    public static async Task EnqueueAsync(IJobStore store, int maxRetry = 0) =>
        await store.EnqueueAsync(new NewJob
        {
            Id = JobId.New(),
            Type = "test:run",
            Queue = QueueName.Default,
            Tenant = TenantId.Default,
            Payload = "{}"u8.ToArray(),
            MaxRetry = maxRetry,
            Retention = TimeSpan.FromDays(1),
        }, CancellationToken.None);

    /// <summary>Enqueues <paramref name="count"/> jobs on the default queue and leases them all for five minutes.</summary>
    public static async Task<IReadOnlyList<LeasedJob>> EnqueueAndLeaseAsync(IJobStore store, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await EnqueueAsync(store);
        }

        var leased = await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(QueueName.Default, count)],
            Limit = count,
            ServerId = "server",
            LeaseDuration = TimeSpan.FromMinutes(5),
        }, CancellationToken.None);
        Assert.Equal(count, leased.Count);
        return leased;
    }
}
