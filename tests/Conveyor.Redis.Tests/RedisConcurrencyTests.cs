using System.Collections.Concurrent;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>Several processes (one connection each) on one prefix: every job is leased once and finished once.</summary>
public sealed class RedisConcurrencyTests
{
    [RedisFact]
    public async Task Dequeue_FourProcessesDrainingTogether_LeaseEveryJobExactlyOnce()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var connections = new List<ConnectionMultiplexer>();
        var stores = new List<RedisJobStore>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!);
                connections.Add(connection);
                var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
                await store.InitializeAsync(CancellationToken.None);
                stores.Add(store);
            }

            var queues = new[] { "critical", "default", "low" };
            var jobs = Enumerable.Range(0, 3000).Select(i => RedisKeyLayoutTests.NewJob(queues[i % 3])).ToList();
            var leases = new ConcurrentDictionary<string, int>();
            var producers = jobs.Chunk(250).Select((chunk, n) => stores[n % 4].EnqueueManyAsync(chunk, CancellationToken.None).AsTask());
            var consumers = stores.Select(store => Task.Run(async () =>
            {
                var idle = 0;
                while (idle < 20)
                {
                    var leased = await store.DequeueAsync(
                        new DequeueRequest { Queues = [.. queues.Select(q => new QueueQuota(q, 7))], Limit = 20, ServerId = store.GetHashCode().ToString(System.Globalization.CultureInfo.InvariantCulture), LeaseDuration = TimeSpan.FromMinutes(5) },
                        CancellationToken.None);
                    foreach (var job in leased)
                    {
                        leases.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
                    }

                    Assert.Equal(leased.Count, await store.AcknowledgeManyAsync([.. leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded })], CancellationToken.None));
                    idle = leased.Count == 0 && leases.Count == jobs.Count ? idle + 1 : 0;
                    if (leased.Count == 0)
                    {
                        await store.WaitForJobsAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None);
                    }
                }
            })).ToList();

            await Task.WhenAll(producers);
            await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(jobs.Count, leases.Count);
            Assert.All(leases, pair => Assert.Equal(1, pair.Value));
            var stats = await stores[0].GetQueueStatsAsync(CancellationToken.None);
            Assert.Equal(jobs.Count, stats.Sum(s => s.Succeeded));
            Assert.Equal(0, stats.Sum(s => s.Pending + s.Active));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }

            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
