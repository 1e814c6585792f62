using Conveyor.Storage;

namespace Conveyor.Sqlite.Tests;

/// <summary>Jobs and requests for the SQLite-only tests.</summary>
internal static class TestJobs
{
    public static NewJob New(string queue = QueueName.Default, DateTimeOffset? processAt = null) => new()
    {
        Id = JobId.New(),
        Type = "test:run",
        Queue = queue,
        Tenant = TenantId.Default,
        Payload = "{}"u8.ToArray(),
        MaxRetry = 3,
        ProcessAt = processAt,
        Retention = TimeSpan.FromDays(1),
    };

    public static DequeueRequest Request(int limit, string serverId = "server-a", string queue = QueueName.Default) => new()
    {
        Queues = [new QueueQuota(queue, limit)],
        Limit = limit,
        ServerId = serverId,
        LeaseDuration = TimeSpan.FromSeconds(30),
    };
}
