using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

public sealed class JanitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task BacklogOfManyBatches_IsDeletedWithinOneInterval()
    {
        // More than the old limit of 20 batches of 1,000 a tick, so a janitor with a fixed budget falls behind.
        const int backlog = 25_000;
        var store = new InMemoryJobStore(_time);
        await FinishAsync(store, backlog, Retention);
        _time.Advance(Retention);
        using var stop = new CancellationTokenSource();
        var janitor = new Janitor(store, "server-a", Interval, _time, NullLogger.Instance);
        var running = janitor.RunAsync(stop.Token);

        _time.Advance(Interval);

        await Eventually.HoldsAsync(async () => await CountAsync(store) == 0, TimeSpan.FromSeconds(30), "the whole backlog to be deleted in the first run");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task WhileOneServerPurges_AnotherDoesNot_UntilItsLockExpires()
    {
        var store = new InMemoryJobStore(_time);
        var first = new Janitor(store, "server-a", Interval, _time, NullLogger.Instance);
        var second = new Janitor(store, "server-b", Interval, _time, NullLogger.Instance);
        await first.RunOnceAsync(CancellationToken.None);
        await FinishAsync(store, 10, TimeSpan.Zero);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await second.RunOnceAsync(CancellationToken.None);
        Assert.Equal(10, await CountAsync(store));

        // server-a died: its lock lives three intervals, then server-b takes over.
        _time.Advance(Interval * 3);
        await second.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, await CountAsync(store));
    }

    private static async Task FinishAsync(IJobStore store, int count, TimeSpan retention)
    {
        for (var i = 0; i < count; i++)
        {
            await store.EnqueueAsync(new NewJob
            {
                Id = JobId.New(),
                Type = "test:run",
                Queue = QueueName.Default,
                Tenant = TenantId.Default,
                Payload = "{}"u8.ToArray(),
                MaxRetry = 0,
                Retention = retention,
            }, CancellationToken.None);
        }

        while (true)
        {
            var leased = await store.DequeueAsync(new DequeueRequest
            {
                Queues = [new QueueQuota(QueueName.Default, 1000)],
                Limit = 1000,
                ServerId = "worker",
                LeaseDuration = TimeSpan.FromMinutes(5),
            }, CancellationToken.None);
            if (leased.Count == 0)
            {
                return;
            }

            await store.AcknowledgeManyAsync(
                leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded, ItemErrors = [] }).ToList(),
                CancellationToken.None);
        }
    }

    private static async Task<long> CountAsync(IJobStore store) =>
        (await store.GetQueueStatsAsync(CancellationToken.None)).Sum(q => q.Succeeded);
}
