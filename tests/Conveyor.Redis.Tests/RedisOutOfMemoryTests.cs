using System.Collections.Concurrent;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A full Redis (<c>maxmemory</c> reached, <c>noeviction</c>) with a real server the test owns. Redis refuses an unflagged
/// script only at its first command that may grow memory, and lets it through when one that shrinks memory came first:
/// dequeues (RPOP) and recoveries (ZREM) went on while lease renewals and acknowledgements were refused, so the server
/// ran again, or failed, jobs whose handlers had succeeded (a tester's run: 28 of 547 jobs without retries ended failed
/// with "the lease expired"). Memory is made full by setting <c>maxmemory</c> below what Redis uses.
/// </summary>
public sealed class RedisOutOfMemoryTests
{
    [RedisFact]
    public async Task Full_EveryCallThatWritesIsRefusedAsUnavailableBeforeItChangesAnything_ReadsAnswer_AllGoesOnOnceFreed()
    {
        await using var server = await RedisServerProcess.StartAsync("--appendonly", "no");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{server.Endpoint},abortConnect=false");
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "full" }, time);
        await store.InitializeAsync(CancellationToken.None);
        var jobs = Enumerable.Range(0, 3).Select(_ => RedisKeyLayoutTests.NewJob("default")).ToList();
        await store.EnqueueManyAsync(jobs, CancellationToken.None);
        var running = await store.DequeueAsync(Request(2), CancellationToken.None);
        Assert.Equal(2, running.Count);
        time.Advance(TimeSpan.FromMinutes(1)); // their leases expired: the server that holds them could not renew them

        await FillAsync(server);

        // Before the fix the dequeue leased the pending job and the recovery took the two expired leases.
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.DequeueAsync(Request(2), CancellationToken.None));
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.RecoverExpiredLeasesAsync(100, CancellationToken.None));
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.ExtendLeasesAsync(Extend(running), CancellationToken.None));
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.AcknowledgeManyAsync([.. running.Select(Ack)], CancellationToken.None));
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await store.EnqueueAsync(RedisKeyLayoutTests.NewJob("default"), CancellationToken.None));
        var stats = Assert.Single(await store.GetQueueStatsAsync(CancellationToken.None), s => s.Queue == "default");
        Assert.Equal((2, 1), (stats.Active, stats.Pending));
        Assert.All(await store.ListLeasesAsync("s", CancellationToken.None), lease => Assert.Contains(running, j => j.Id == lease.JobId));

        await server.CliAsync("CONFIG", "SET", "maxmemory", "0");

        // The server renews its expired leases before its recoverer recovers any, then acknowledges: nothing was recovered.
        Assert.Empty((await store.ExtendLeasesAsync(Extend(running), CancellationToken.None)).Lost);
        Assert.Equal(2, await store.AcknowledgeManyAsync([.. running.Select(Ack)], CancellationToken.None));
        Assert.Empty(await store.RecoverExpiredLeasesAsync(100, CancellationToken.None));
        IReadOnlyList<LeasedJob> rest = [];
        await RedisServerProcess.WaitUntilAsync(
            async () =>
            {
                time.Advance(TimeSpan.FromSeconds(1)); // past the refused queue's back-off
                rest = await store.DequeueAsync(Request(2), CancellationToken.None);
                return rest.Count > 0;
            },
            TimeSpan.FromSeconds(30),
            "the pending job to be leased");
        Assert.Equal(jobs[2].Id, Assert.Single(rest).Id);
        Assert.Equal(1, await store.AcknowledgeManyAsync([Ack(rest[0])], CancellationToken.None));
        foreach (var job in jobs)
        {
            var info = await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None);
            Assert.Equal((JobState.Succeeded, 1), (info!.State, info.Attempts));
        }
    }

    /// <summary>
    /// Two jobs (one without retries) run when Redis fills, and their handlers return while it is full; four jobs wait.
    /// While Redis stays full for three leases nothing is leased or recovered; once it has memory again every job ends
    /// succeeded after one run (before the fix the recoverer took the two jobs whose results were waiting: one ended
    /// failed, the other ran again, and the waiting jobs were leased though they could not be acknowledged).
    /// </summary>
    [RedisFact]
    public async Task Full_JobsRunningWhenRedisFillsSucceedOnceItHasMemory_NoJobRunsTwiceOrIsLost()
    {
        await using var server = await RedisServerProcess.StartAsync("--appendonly", "no");
        var lease = TimeSpan.FromSeconds(2);
        var runs = new ConcurrentDictionary<string, int>();
        var started = new ConcurrentDictionary<string, bool>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddConveyor()
            .UseRedis(o =>
            {
                o.Configuration = server.Endpoint;
                o.KeyPrefix = "full-server";
            })
            .AddHandler("test:gated", async (context, _) =>
            {
                runs.AddOrUpdate(context.JobId, 1, static (_, n) => n + 1);
                started[context.JobId] = true;
                await gate.Task;
            })
            .AddServer(o =>
            {
                o.Concurrency = 2;
                o.Prefetch = 0;
                o.LeaseDuration = lease;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.RecoverInterval = TimeSpan.FromMilliseconds(200);
            });
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IJobClient>();
        var store = host.Services.GetRequiredService<IJobStore>();

        var running = new[]
        {
            (await client.EnqueueAsync("test:gated", "{}"u8.ToArray())).JobId,
            (await client.EnqueueAsync("test:gated", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 })).JobId,
        };
        await RedisServerProcess.WaitUntilAsync(() => Task.FromResult(running.All(started.ContainsKey)), TimeSpan.FromSeconds(30), "both jobs to start");
        var waiting = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            waiting.Add((await client.EnqueueAsync("test:gated", "{}"u8.ToArray(), new JobOptions { MaxRetry = i % 2 == 0 ? 0 : 3 })).JobId);
        }

        await FillAsync(server);
        gate.SetResult();

        // Redis stays full for a while, as an operator takes time to notice: three leases, long enough for the leases of
        // the two jobs to run out and for the recoverer to have taken them several times over before the fix.
        await Task.Delay(3 * lease);
        Assert.Equal(2, runs.Count);

        await server.CliAsync("CONFIG", "SET", "maxmemory", "0");
        var all = running.Concat(waiting).ToList();
        await RedisServerProcess.WaitUntilAsync(
            async () =>
            {
                foreach (var id in all)
                {
                    if ((await store.GetAsync(TenantId.Default, id, CancellationToken.None))?.State is not (JobState.Succeeded or JobState.Failed))
                    {
                        return false;
                    }
                }

                return true;
            },
            TimeSpan.FromSeconds(60),
            "every job to finish");
        foreach (var id in all)
        {
            var info = await store.GetAsync(TenantId.Default, id, CancellationToken.None);
            Assert.Equal((id, JobState.Succeeded, 1, 1), (id, info!.State, info.Attempts, runs[id]));
        }

        await host.StopAsync();
    }

    // maxmemory below what Redis uses: every command that may grow memory is refused with OOM until it is raised.
    private static async Task FillAsync(RedisServerProcess server)
    {
        await server.CliAsync("CONFIG", "SET", "maxmemory-policy", "noeviction");
        await server.CliAsync("CONFIG", "SET", "maxmemory", "1");
    }

    private static JobAcknowledgement Ack(LeasedJob job) => new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded };

    private static ExtendLeasesRequest Extend(IEnumerable<LeasedJob> jobs) => new()
    {
        ServerId = "s",
        Leases = [.. jobs.Select(j => new LeaseRef(j.Id, j.LeaseToken))],
        LeaseDuration = TimeSpan.FromSeconds(30),
    };

    private static DequeueRequest Request(int limit) => new()
    {
        Queues = [new QueueQuota("default", limit)],
        Limit = limit,
        ServerId = "s",
        LeaseDuration = TimeSpan.FromSeconds(30),
    };
}
