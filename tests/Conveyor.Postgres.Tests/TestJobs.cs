using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

internal static class TestJobs
{
    public static readonly DateTimeOffset StartTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static NewJob New(string? id = null, string queue = QueueName.Default, string tenant = TenantId.Default, int maxRetry = 3) => new()
    {
        Id = id ?? JobId.New(),
        Type = "test:run",
        Queue = queue,
        Tenant = tenant,
        Payload = "{}"u8.ToArray(),
        MaxRetry = maxRetry,
        Retention = TimeSpan.FromDays(1),
    };

    public static DequeueRequest Dequeue(int limit, string serverId = "server-a", TimeSpan? lease = null, string queue = QueueName.Default) => new()
    {
        Queues = [new QueueQuota(queue, limit)],
        Limit = limit,
        ServerId = serverId,
        LeaseDuration = lease ?? TimeSpan.FromSeconds(30),
    };

    public static JobAcknowledgement Succeeded(LeasedJob job) => new()
    {
        JobId = job.Id,
        LeaseToken = job.LeaseToken,
        Outcome = AckOutcome.Succeeded,
    };
}
