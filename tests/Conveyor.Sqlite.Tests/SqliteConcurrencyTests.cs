using System.Collections.Concurrent;
using Conveyor.Storage;

namespace Conveyor.Sqlite.Tests;

/// <summary>
/// Several store instances on one file stand for several processes: each has its own connections and its
/// own in-process lock, so only SQLite's file lock (BEGIN IMMEDIATE) keeps them apart.
/// </summary>
public sealed class SqliteConcurrencyTests : IDisposable
{
    private readonly SqliteTestDatabase _database = new();
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(120));

    private CancellationToken Ct => _guard.Token;

    public void Dispose()
    {
        _guard.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task DequeueAsync_FourInstancesDrainingConcurrently_LeaseEveryJobExactlyOnce()
    {
        const int jobCount = 3000;
        var stores = Enumerable.Range(0, 4).Select(_ => _database.CreateStore(TimeProvider.System, o => o.BusyTimeout = TimeSpan.FromSeconds(30))).ToArray();
        try
        {
            var jobs = Enumerable.Range(0, jobCount).Select(i => TestJobs.New(queue: i % 3 == 0 ? "critical" : "default")).ToArray();
            foreach (var chunk in jobs.Chunk(500))
            {
                await stores[0].EnqueueManyAsync(chunk, Ct);
            }

            var leases = new ConcurrentBag<LeasedJob>();
            var workers = stores.SelectMany((store, s) => Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
            {
                var request = new DequeueRequest
                {
                    Queues = [new QueueQuota("critical", 6), new QueueQuota("default", 3)],
                    Limit = 1 + ((s + w) % 20),
                    ServerId = $"server-{s}-{w}",
                    LeaseDuration = TimeSpan.FromMinutes(5),
                };
                while (true)
                {
                    var batch = await store.DequeueAsync(request, Ct);
                    if (batch.Count == 0)
                    {
                        return;
                    }

                    foreach (var job in batch)
                    {
                        leases.Add(job);
                    }

                    await store.AcknowledgeManyAsync(
                        [.. batch.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded })], Ct);
                }
            }, Ct))).ToArray();
            await Task.WhenAll(workers);

            Assert.Equal(jobCount, leases.Count);
            Assert.Equal(jobCount, leases.Select(static l => l.Id).Distinct().Count());
            Assert.Equal(jobCount, leases.Select(static l => l.LeaseToken).Distinct().Count());
            Assert.All(leases, static l => Assert.Equal(1, l.Attempt));
            var stats = await stores[1].GetQueueStatsAsync(Ct);
            Assert.Equal(jobCount, stats.Sum(static q => q.Succeeded));
            Assert.All(stats, static q => Assert.Equal(0, q.Pending + q.Active));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task EnqueueAndDequeue_FromSeparateInstancesAtOnce_LoseNothing()
    {
        const int jobCount = 1000;
        await using var producer = _database.CreateStore(TimeProvider.System, o => o.BusyTimeout = TimeSpan.FromSeconds(30));
        await using var consumer = _database.CreateStore(TimeProvider.System, o => o.BusyTimeout = TimeSpan.FromSeconds(30));
        await producer.InitializeAsync(Ct);

        var produce = Task.Run(async () =>
        {
            for (var i = 0; i < jobCount; i += 10)
            {
                await producer.EnqueueManyAsync([.. Enumerable.Range(0, 10).Select(_ => TestJobs.New())], Ct);
            }
        }, Ct);
        var seen = new HashSet<string>();
        while (seen.Count < jobCount)
        {
            var batch = await consumer.DequeueAsync(TestJobs.Request(25, "consumer"), Ct);
            foreach (var job in batch)
            {
                Assert.True(seen.Add(job.Id), $"{job.Id} was leased twice.");
            }

            if (batch.Count == 0)
            {
                await consumer.WaitForJobsAsync(TimeSpan.FromMilliseconds(50), Ct);
            }
        }

        await produce;
        Assert.Equal(jobCount, seen.Count);
    }
}
