using Conveyor.Storage;

namespace Conveyor.Redis.Tests;

/// <summary>Where the store puts its keys: one Cluster slot per queue, every key under the prefix, nothing left behind.</summary>
public sealed class RedisKeyLayoutTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task Keys_OfOneQueue_ShareOneHashSlotAndEveryKeyUsesThePrefix()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var connection = await RedisTestEnvironment.ConnectionAsync();
        foreach (var queue in new[] { "alpha", "beta" })
        {
            // A job in every structure: pending, active, scheduled, retrying, each finished state, paused flag.
            await store.EnqueueManyAsync([.. Enumerable.Range(0, 6).Select(_ => NewJob(queue))], CancellationToken.None);
            await store.EnqueueAsync(NewJob(queue) with { ProcessAt = _time.GetUtcNow().AddHours(1), UniqueKey = "u-" + queue, UniqueUntil = _time.GetUtcNow().AddHours(2) }, CancellationToken.None);
            var leased = await store.DequeueAsync(new DequeueRequest { Queues = [new QueueQuota(queue, 6)], Limit = 6, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) }, CancellationToken.None);
            var outcomes = new[] { AckOutcome.Succeeded, AckOutcome.Partial, AckOutcome.Failed, AckOutcome.Cancelled, AckOutcome.Retry };
            await store.AcknowledgeManyAsync([.. outcomes.Select((o, i) => new JobAcknowledgement { JobId = leased[i].Id, LeaseToken = leased[i].LeaseToken, Outcome = o, RetryAt = _time.GetUtcNow().AddMinutes(1) })], CancellationToken.None);
            await store.PauseQueueAsync(queue, CancellationToken.None);
            await store.EnqueueAsync(NewJob(queue), CancellationToken.None);
        }

        var keys = await KeysAsync(store.KeyPrefix);
        Assert.All(keys, key => Assert.StartsWith(store.KeyPrefix + ":", key, StringComparison.Ordinal));
        foreach (var queue in new[] { "alpha", "beta" })
        {
            var queueKeys = keys.Where(k => k.Contains("{" + queue + "}", StringComparison.Ordinal)).ToList();
            Assert.True(queueKeys.Count >= 10, $"expected the queue's structures, found {string.Join(", ", queueKeys)}");
            Assert.Single(queueKeys.Select(k => connection.HashSlot(k)).Distinct());
        }
    }

    [RedisFact]
    public async Task TwoPrefixes_OnOneRedis_DoNotSeeEachOthersJobs()
    {
        await using var first = await RedisTestEnvironment.CreateStoreAsync(_time);
        await using var second = await RedisTestEnvironment.CreateStoreAsync(_time);
        await first.InitializeAsync(CancellationToken.None);
        await second.InitializeAsync(CancellationToken.None);
        var job = NewJob("default") with { Id = "shared-id-1" };

        Assert.Equal(EnqueueOutcome.Enqueued, (await first.EnqueueAsync(job, CancellationToken.None)).Outcome);
        Assert.Equal(EnqueueOutcome.Enqueued, (await second.EnqueueAsync(job, CancellationToken.None)).Outcome);
        Assert.Single(await first.DequeueAsync(Request("default", 10), CancellationToken.None));
        Assert.Equal(JobState.Pending, (await second.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State);
        Assert.Single(await second.DequeueAsync(Request("default", 10), CancellationToken.None));
        Assert.Empty(await first.DequeueAsync(Request("default", 10), CancellationToken.None));
    }

    [RedisFact]
    public async Task GeneratedId_HasNoLookupKey_AndAnotherInstanceFindsItInAQueueItNeverSaw()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var producer = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        await using var reader = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        await producer.InitializeAsync(CancellationToken.None);
        await reader.InitializeAsync(CancellationToken.None);
        var first = NewJob("alpha");
        await producer.EnqueueAsync(first, CancellationToken.None);
        Assert.Equal("alpha", (await reader.GetAsync(TenantId.Default, first.Id, CancellationToken.None))!.Queue);

        // The reader has read the queue names by now; a queue created after that is found all the same.
        var single = NewJob("beta");
        var batched = NewJob("gamma");
        await producer.EnqueueAsync(single, CancellationToken.None);
        await producer.EnqueueManyAsync([batched, NewJob("gamma")], CancellationToken.None);

        Assert.Equal("beta", (await reader.GetAsync(TenantId.Default, single.Id, CancellationToken.None))!.Queue);
        Assert.Equal(JobCommandResult.Done, await reader.CancelAsync(TenantId.Default, batched.Id, CancellationToken.None));
        Assert.Null(await reader.GetAsync(TenantId.Default, JobId.New(), CancellationToken.None));
        var keys = await KeysAsync(prefix);
        Assert.DoesNotContain(keys, key => key.StartsWith(prefix + ":ix:", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task Keys_AfterManyJobsAreEnqueuedDrainedAndPurged_ReturnToASmallConstant()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        await RunJobsAsync(store, 10, unique: false);
        var baseline = await KeysAsync(store.KeyPrefix);

        await RunJobsAsync(store, 3000, unique: true);

        var after = await KeysAsync(store.KeyPrefix);
        Assert.True(after.Count <= baseline.Count, $"keys left: {string.Join(", ", after.Except(baseline))}");
        Assert.True(after.Count <= 4, $"keys left: {string.Join(", ", after)}");
    }

    [RedisFact]
    public async Task Delete_OfJobsWithUniqueKeys_DropsTheirClaimsHoweverTheyWereStored()
    {
        // The clean-up drops a claim only if it is exactly the one the job's enqueue wrote, rebuilt from the job's
        // hash by the deleting script: a claim it failed to rebuild would hold its key for good.
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var until = _time.GetUtcNow().AddHours(1);
        NewJob[] jobs =
        [
            NewJob("default") with { UniqueKey = "no-until" },
            NewJob("default") with { UniqueKey = "until", UniqueUntil = until },
            NewJob("low") with { Id = "chosen-1", UniqueKey = "chosen" },
        ];
        foreach (var job in jobs)
        {
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(job, CancellationToken.None)).Outcome);
        }

        var published = NewJob("default") with { UniqueKey = "published", UniqueUntil = until };
        Assert.True((await store.EnqueueAllOrNoneAsync([published], CancellationToken.None)).AllStored);
        Assert.Equal(4, (await KeysAsync(store.KeyPrefix)).Count(k => k.Contains(":uq:", StringComparison.Ordinal)));

        foreach (var job in jobs.Append(published))
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(JobCommandResult.Done, await store.DeleteAsync(job.Tenant, job.Id, CancellationToken.None));
        }

        Assert.DoesNotContain(await KeysAsync(store.KeyPrefix), k => k.Contains(":uq:", StringComparison.Ordinal));
    }

    private async Task RunJobsAsync(RedisJobStore store, int count, bool unique)
    {
        for (var done = 0; done < count; done += 500)
        {
            var jobs = Enumerable.Range(done, Math.Min(500, count - done))
                .Select(i => NewJob(i % 2 == 0 ? "default" : "low") with { Retention = TimeSpan.FromMinutes(1), UniqueKey = unique && i % 10 == 0 ? $"k{i}" : null, UniqueUntil = _time.GetUtcNow().AddHours(1) })
                .ToList();
            await store.EnqueueManyAsync(jobs, CancellationToken.None);
            while (true)
            {
                var leased = await store.DequeueAsync(new DequeueRequest { Queues = [new QueueQuota("default", 100), new QueueQuota("low", 100)], Limit = 200, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) }, CancellationToken.None);
                if (leased.Count == 0)
                {
                    break;
                }

                Assert.Equal(leased.Count, await store.AcknowledgeManyAsync([.. leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded })], CancellationToken.None));
            }
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        var purged = 0;
        int batch;
        while ((batch = await store.PurgeExpiredAsync(700, CancellationToken.None)) > 0)
        {
            Assert.True(batch <= 700);
            purged += batch;
        }

        Assert.Equal(count, purged);
    }

    internal static async Task<List<string>> KeysAsync(string prefix)
    {
        var connection = await RedisTestEnvironment.ConnectionAsync();
        var keys = new List<string>();
        foreach (var server in connection.GetServers())
        {
            await foreach (var key in server.KeysAsync(pattern: prefix + ":*", pageSize: 1000))
            {
                keys.Add((string)key!);
            }
        }

        return keys;
    }

    private static DequeueRequest Request(string queue, int limit) =>
        new() { Queues = [new QueueQuota(queue, limit)], Limit = limit, ServerId = "s", LeaseDuration = TimeSpan.FromSeconds(30) };

    internal static NewJob NewJob(string queue) => new()
    {
        Id = JobId.New(),
        Type = "test:run",
        Queue = queue,
        Tenant = TenantId.Default,
        Payload = "{}"u8.ToArray(),
        MaxRetry = 3,
        Retention = TimeSpan.FromDays(1),
    };
}
