namespace Conveyor.Storage.Conformance;

/// <summary>Dequeue under contention and at scale: no job is ever handed out twice or lost.</summary>
public abstract partial class DequeueTests
{
    [Fact]
    public async Task Dequeue_ConcurrentCalls_NeverReturnTheSameJobTwice()
    {
        var ids = await EnqueueManyAsync(60);

        var batches = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () => await DequeueAsync(7))));

        var taken = batches.SelectMany(static b => b).Select(static j => j.Id).ToList();
        Assert.Equal(taken.Count, taken.Distinct().Count());
        Assert.Equal(ids.Order(), taken.Order());
    }

    [Fact]
    public async Task Dequeue_ConcurrentSingleJobCalls_OnlyOneWins()
    {
        var id = await EnqueueAsync();

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await DequeueAsync(1))));

        var taken = Assert.Single(batches.SelectMany(static b => b));
        Assert.Equal(id, taken.Id);
        Assert.Equal(1, (await GetAsync(id)).Attempts);
    }

    [Fact]
    public async Task Dequeue_WhileProducersEnqueue_EveryJobLeasedExactlyOnce()
    {
        const int producers = 4;
        const int perProducer = 50;
        var expected = producers * perProducer;
        var leased = new System.Collections.Concurrent.ConcurrentBag<string>();
        var produced = 0;

        var producing = Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < perProducer; i++)
            {
                await EnqueueAsync(NewJob(queue: "busy"));
                Interlocked.Increment(ref produced);
            }
        })).ToArray();
        var consuming = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (leased.Count < expected && DateTime.UtcNow < deadline)
            {
                var batch = await DequeueAsync(5, "busy");
                foreach (var job in batch)
                {
                    leased.Add(job.Id);
                }

                if (batch.Count == 0)
                {
                    await Task.Yield();
                }
            }
        })).ToArray();
        await Task.WhenAll(producing);
        await Task.WhenAll(consuming);

        Assert.Equal(expected, Volatile.Read(ref produced));
        Assert.Equal(expected, leased.Count);
        Assert.Equal(expected, leased.Distinct().Count());
        Assert.Empty(await DequeueAsync(10, "busy"));
    }

    [Fact]
    public async Task Dequeue_ManyQueuesInOneRequest_TakesFromEach()
    {
        var queues = Enumerable.Range(0, 40).Select(static i => $"q{i:00}").ToArray();
        foreach (var queue in queues)
        {
            await EnqueueAsync(NewJob(queue: queue));
        }

        var leased = await Store.DequeueAsync(Request(1, queues: queues) with { Limit = 100 }, Ct);

        Assert.Equal(queues, leased.Select(static j => j.Queue).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dequeue_LargeBacklog_TakesTheOldestInOrder()
    {
        var results = await Store.EnqueueManyAsync(Enumerable.Range(0, 2000).Select(_ => NewJob(queue: "backlog")).ToArray(), Ct);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var newest = await EnqueueAsync(NewJob(queue: "backlog"));

        var leased = await Store.DequeueAsync(Request(50, queues: "backlog"), Ct);

        Assert.Equal(results.Take(50).Select(static r => r.JobId), leased.Select(static j => j.Id));
        Assert.DoesNotContain(newest, leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Dequeue_SecondAttempt_StartedAtIsTheNewDequeueTime()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, Error(1), retryAt: Now.AddSeconds(10))));
        Time.Advance(TimeSpan.FromSeconds(10));
        await Store.PromoteDueAsync(10, Ct);
        Time.Advance(TimeSpan.FromSeconds(5));

        await DequeueOneAsync();

        Assert.Equal(StartTime.AddSeconds(15), (await GetAsync(id)).StartedAt);
    }
}
