using System.Collections.Concurrent;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Conveyor.Redis.Tests;

/// <summary>
/// On a real three-master Redis Cluster, one primary hangs (SIGSTOP: it keeps its connections and answers nothing, as a
/// frozen VM or a partition). A dequeue over queues of every primary returns what the healthy primaries leased instead
/// of failing whole, and leaves the hung primary's queue out for a back-off, so that later dequeues do not wait out the
/// client's timeout on it; a server keeps running the other queues' jobs. Once the primary answers, its queue's jobs run
/// too, each once: what the calls that timed out leased when the primary ran them late is handed back, uncounted.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterHungPrimaryTests
{
    // Long enough that the cluster never marks the frozen node failed (and reports itself down) during a test.
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(60);

    [RedisFact]
    public async Task APrimaryHangs_TheDequeueReturnsTheOtherPrimariesJobs_LeavesItsQueueOut_ThenTakesItAgainOnceItAnswers()
    {
        await using var cluster = await RedisCluster.StartAsync(NodeTimeout);
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{cluster.Configuration},asyncTimeout=1000,syncTimeout=1000");
        var profiling = new ProfilingSession();
        connection.RegisterProfiler(() => profiling);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturedLogs();
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "hung-store" }, time, logs.CreateLogger<RedisJobStore>());
        await store.InitializeAsync(CancellationToken.None);
        var queues = RedisCluster.QueuesOnEveryNode(connection, store.Keys);
        var hungQueue = queues[1];
        var hungEndpoint = RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(hungQueue).Pending));
        var healthy = new HashSet<string>(StringComparer.Ordinal);
        var onHung = new HashSet<string>(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            for (var i = 0; i < 3; i++)
            {
                var job = RedisKeyLayoutTests.NewJob(queue);
                Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(job, CancellationToken.None)).Outcome);
                (queue == hungQueue ? onHung : healthy).Add(job.Id);
            }
        }

        var hungNode = cluster.Node(hungEndpoint);
        var taken = new List<LeasedJob>();
        hungNode.Pause();
        try
        {
            // The first dequeue waits out the client's timeout on the hung primary's queue, and returns the others' jobs.
            var first = await store.DequeueAsync(Request(queues, 3), CancellationToken.None);
            var partial = Assert.IsType<PartialDequeue>(first);
            Assert.NotNull(partial.Failure.InnerException);
            Assert.Equal(healthy.Order(StringComparer.Ordinal), first.Select(static j => j.Id).Order(StringComparer.Ordinal));
            taken.AddRange(first);
            var suspended = Assert.Single(logs.Records, static r => r.EventId == 911);
            Assert.Equal(LogLevel.Warning, suspended.Level);
            Assert.Contains(hungQueue, suspended.Message, StringComparison.Ordinal);

            // Left out for its back-off: the next dequeue sends nothing to the hung primary, and answers in part, naming it.
            var late = RedisKeyLayoutTests.NewJob(queues[0]);
            await store.EnqueueAsync(late, CancellationToken.None);
            _ = profiling.FinishProfiling();
            var second = await store.DequeueAsync(Request(queues, 3), CancellationToken.None);
            Assert.Contains(hungQueue, Assert.IsType<PartialDequeue>(second).Failure.Message, StringComparison.Ordinal);
            Assert.Equal(late.Id, Assert.Single(second).Id);
            taken.AddRange(second);

            // A dequeue of that queue alone fails, as on one Redis: at once while it is left out; once the back-off has
            // passed, the dequeue starts a probe of the hung primary and fails at once all the same.
            await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.DequeueAsync(Request([hungQueue], 3), CancellationToken.None));
            Assert.DoesNotContain(profiling.FinishProfiling(), c => c.EndPoint.Equals(hungEndpoint));
            time.Advance(QueueSuspensions.FirstBackoff);
            var third = await store.DequeueAsync(Request(queues, 3), CancellationToken.None);
            Assert.Empty(Assert.IsType<PartialDequeue>(third));
            await RedisServerProcess.WaitUntilAsync(
                () => Task.FromResult(profiling.FinishProfiling().Any(c => c.EndPoint.Equals(hungEndpoint) && c.Command == "EXISTS")),
                TimeSpan.FromSeconds(10),
                "the probe of the hung primary to time out");
            await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.DequeueAsync(Request([hungQueue], 3), CancellationToken.None));
            Assert.Single(logs.Records, static r => r.EventId == 911);
        }
        finally
        {
            hungNode.Resume();
        }

        // Once it answers and a probe after the next back-off has seen it, its queue is asked again. Every job of it is
        // leased to this server exactly once: by a dequeue that returned it, or by the first dequeue's call that timed
        // out and that the primary ran when it resumed (a server's lease reconciler hands those back).
        await RedisServerProcess.WaitUntilAsync(
            async () =>
            {
                time.Advance(QueueSuspensions.FirstBackoff);
                taken.AddRange(await store.DequeueAsync(Request(queues, 3), CancellationToken.None));
                var leased = (await store.ListLeasesAsync("s", CancellationToken.None)).Select(static l => l.JobId).ToHashSet(StringComparer.Ordinal);
                return onHung.IsSubsetOf(leased) && logs.Records.Any(static r => r.EventId == 912);
            },
            TimeSpan.FromSeconds(15),
            "every job of the hung primary's queue to be leased, and its queue to be taken from again");
        Assert.Equal(taken.Count, taken.Select(static j => j.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain(await store.GetQueueStatsAsync(CancellationToken.None), s => queues.Contains(s.Queue) && s.Pending > 0);
        var resumed = Assert.Single(logs.Records, static r => r.EventId == 912);
        Assert.Contains(hungQueue, resumed.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task APrimaryHangs_AServerKeepsRunningTheOtherPrimariesQueues_AndRunsItsQueueOnceItIsBack_EachJobOnce()
    {
        await using var cluster = await RedisCluster.StartAsync(NodeTimeout);
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{cluster.Configuration},asyncTimeout=1000,syncTimeout=1000");

        // A prefix whose shared keys (queue set, servers, schedules, wake-up channels) leave one node free of them: that
        // node hangs, so that only its queue is away, not the server's heartbeat or wake-ups.
        var (prefix, hungEndpoint) = PrefixWithAFreeNode(connection);
        var keys = new RedisKeys(prefix);
        var queues = RedisCluster.QueuesOnEveryNode(connection, keys);
        var hungQueue = queues.Single(q => RedisCluster.SlotOwner(connection, connection.HashSlot(keys.ForQueue(q).Pending)).Equals(hungEndpoint));
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var logs = new CapturedLogs();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<IConnectionMultiplexer>(connection);
        builder.Services.AddConveyor()
            .UseRedis(o => o.KeyPrefix = prefix)
            .AddHandler("test:run", (context, _) =>
            {
                runs.AddOrUpdate(context.JobId, 1, static (_, n) => n + 1);
                return Task.CompletedTask;
            })
            .AddServer(o =>
            {
                o.Queues = queues.ToDictionary(static q => q, static _ => 1, StringComparer.Ordinal);
                o.Concurrency = 3;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                // Longer than a dequeue that waits out the client's timeout on the hung primary, and than the freeze's
                // first seconds, so that no lease of a job this server holds lapses.
                o.LeaseDuration = TimeSpan.FromSeconds(10);
            });
        using var host = builder.Build();
        await host.StartAsync();
        var store = host.Services.GetRequiredService<IJobStore>();
        var client = host.Services.GetRequiredService<IJobClient>();

        // The hung queue's jobs wait (paused) until a resume that the frozen primary runs when it answers again, so that
        // they are pending all through the freeze; no retries, so that a lease lost and recovered would fail its job.
        await store.PauseQueueAsync(hungQueue, CancellationToken.None);
        var onHung = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            onHung.Add((await client.EnqueueAsync("test:run", "{}"u8.ToArray(), new JobOptions { Queue = hungQueue, MaxRetry = 0 })).JobId);
        }

        var hungNode = cluster.Node(hungEndpoint);
        var healthy = new List<string>();
        hungNode.Pause();
        try
        {
            await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.ResumeQueueAsync(hungQueue, CancellationToken.None).AsTask());
            foreach (var queue in queues.Where(q => q != hungQueue))
            {
                for (var i = 0; i < 10; i++)
                {
                    healthy.Add((await client.EnqueueAsync("test:run", "{}"u8.ToArray(), new JobOptions { Queue = queue, MaxRetry = 0 })).JobId);
                }
            }

            await RedisServerProcess.WaitUntilAsync(
                () => Task.FromResult(healthy.All(runs.ContainsKey)),
                TimeSpan.FromSeconds(30),
                $"the other primaries' jobs to run while one primary hangs ({healthy.Count(runs.ContainsKey)} of {healthy.Count} ran)");
            Assert.DoesNotContain(onHung, runs.ContainsKey);
        }
        finally
        {
            hungNode.Resume();
        }

        await RedisServerProcess.WaitUntilAsync(
            async () =>
            {
                foreach (var id in onHung)
                {
                    if ((await store.GetAsync(TenantId.Default, id, CancellationToken.None))?.State is not (JobState.Succeeded or JobState.Failed))
                    {
                        return false;
                    }
                }

                return true;
            },
            TimeSpan.FromSeconds(30),
            "the hung primary's queue's jobs to finish once it answers");
        foreach (var id in onHung.Concat(healthy))
        {
            var info = await store.GetAsync(TenantId.Default, id, CancellationToken.None);
            Assert.Equal(JobState.Succeeded, info!.State);
            Assert.Equal(1, info.Attempts);
            Assert.Equal(1, runs[id]);
        }

        var warning = Assert.Single(logs.Records, static r => r.EventId == 911);
        Assert.Contains(hungQueue, warning.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Records, r => r.EventId == 912 && r.Message.Contains(hungQueue, StringComparison.Ordinal));
        await host.StopAsync();
    }

    [RedisFact]
    public async Task APrimaryHangs_TheSecondPassAsksTheQueuesOfPrimariesThatAnswered_NotTheHungPrimarysOneByOne()
    {
        await using var cluster = await RedisCluster.StartAsync(NodeTimeout);
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{cluster.Configuration},asyncTimeout=1000,syncTimeout=1000");
        var logs = new CapturedLogs();
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "hung-second-pass" }, new FakeTimeProvider(DateTimeOffset.UtcNow), logs.CreateLogger<RedisJobStore>());
        await store.InitializeAsync(CancellationToken.None);

        // Two queues on a healthy primary and two on the one that hangs; two slots, so the first pass asks one of each and
        // the second pass the others.
        System.Net.EndPoint Owner(string queue) => RedisCluster.SlotOwner(connection, connection.HashSlot(store.Keys.ForQueue(queue).Pending));
        var names = Enumerable.Range(0, 1000).Select(static i => $"q{i}").ToList();
        var healthy = names[0];
        var healthyEndpoint = Owner(healthy);
        var hung = names.First(q => !Owner(q).Equals(healthyEndpoint));
        var hungEndpoint = Owner(hung);
        var hungToo = names.First(q => q != hung && Owner(q).Equals(hungEndpoint));
        var healthyToo = names.First(q => q != healthy && Owner(q).Equals(healthyEndpoint));
        var expected = new List<string>();
        foreach (var queue in new[] { healthy, hungToo, healthyToo })
        {
            var job = RedisKeyLayoutTests.NewJob(queue);
            Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(job, CancellationToken.None)).Outcome);
            if (queue != hungToo)
            {
                expected.Add(job.Id);
            }
        }

        var request = new DequeueRequest
        {
            Queues = [new QueueQuota(healthy, 1), new QueueQuota(hung, 1), new QueueQuota(hungToo, 1), new QueueQuota(healthyToo, 1)],
            Limit = 2,
            ServerId = "s",
            LeaseDuration = TimeSpan.FromMinutes(1),
        };
        var hungNode = cluster.Node(hungEndpoint);
        hungNode.Pause();
        try
        {
            var jobs = await store.DequeueAsync(request, CancellationToken.None);
            Assert.IsType<PartialDequeue>(jobs);
            Assert.Equal(expected.Order(StringComparer.Ordinal), jobs.Select(static j => j.Id).Order(StringComparer.Ordinal));

            // Its other queue was not asked, and is left out with it.
            Assert.Contains(logs.Records, r => r.EventId == 911 && r.Message.StartsWith($"Queue {hung} is", StringComparison.Ordinal));
            Assert.Contains(logs.Records, r => r.EventId == 911 && r.Message.StartsWith($"Queue {hungToo} is", StringComparison.Ordinal));
        }
        finally
        {
            hungNode.Resume();
        }

        // Once the primary answers a ping sent after the dequeue's calls, it has run them: a call on the other queue would
        // have leased its job.
        await connection.GetServer(hungEndpoint).PingAsync();
        Assert.Equal(1, Assert.Single(await store.GetQueueStatsAsync(CancellationToken.None), s => s.Queue == hungToo).Pending);
    }

    private static DequeueRequest Request(IReadOnlyList<string> queues, int perQueue) => new()
    {
        Queues = [.. queues.Select(q => new QueueQuota(q, perQueue))],
        Limit = perQueue * queues.Count,
        ServerId = "s",
        LeaseDuration = TimeSpan.FromMinutes(1),
    };

    private static (string Prefix, System.Net.EndPoint Free) PrefixWithAFreeNode(ConnectionMultiplexer connection)
    {
        var nodes = Enumerable.Range(0, 16384).Select(slot => RedisCluster.SlotOwner(connection, slot)).Distinct().ToList();
        for (var n = 0; n < 1000; n++)
        {
            var prefix = $"hung-server{n}";
            var keys = new RedisKeys(prefix);
            RedisKey[] shared = [keys.Queues, keys.Servers, keys.ScheduleNextTicks, $"{prefix}:notify", $"{prefix}:cancel"];
            var used = shared.Select(k => RedisCluster.SlotOwner(connection, connection.HashSlot(k))).ToHashSet();
            if (nodes.FirstOrDefault(node => !used.Contains(node)) is { } free)
            {
                return (prefix, free);
            }
        }

        throw new InvalidOperationException("No key prefix leaves a node free of the shared keys.");
    }
}
